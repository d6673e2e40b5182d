import Foundation

/// The templates folder's files, read once: the bytes lint checks are the bytes the catalog is
/// built from, so an edit landing while a reload runs can never go into service unchecked (it is
/// simply seen by the next reload). Holds the folder's top-level files (tones.yml) and the files of
/// each top-level folder (variants, template.yml, sample.json, _partials); hidden entries and
/// deeper folders are not read, as nothing uses them.
public struct TemplateFiles: Sendable, Equatable {
    public let directory: String
    /// Relative path ("tones.yml", "due-today/sms.es.mustache") → bytes.
    public let files: [String: Data]
    /// Top-level folders, sorted (empty ones included).
    public let folders: [String]

    public init(directory: String, files: [String: Data], folders: [String]) {
        self.directory = directory
        self.files = files
        self.folders = folders.sorted()
    }

    /// Reads the folder. Fails, naming the path, when the folder or one of its files cannot be read.
    public static func read(directory: String) throws(TemplateLoadError) -> TemplateFiles {
        let fm = FileManager.default
        func isDirectory(_ path: String) -> Bool? {
            var flag: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &flag) else { return nil }
            return flag.boolValue
        }
        guard isDirectory(directory) == true else { throw TemplateLoadError(file: directory, message: "templates folder not found") }
        func list(_ path: String, relative: String) throws(TemplateLoadError) -> [String] {
            do { return try fm.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted() } catch {
                throw TemplateLoadError(file: relative, message: "cannot list: \(FileReadFailure.reason(error))")
            }
        }
        func load(_ path: String, relative: String) throws(TemplateLoadError) -> Data {
            do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw TemplateLoadError(file: relative, message: "cannot read file: \(FileReadFailure.reason(error))")
            }
        }
        var files: [String: Data] = [:]
        var folders: [String] = []
        for entry in try list(directory, relative: directory) {
            let path = (directory as NSString).appendingPathComponent(entry)
            switch isDirectory(path) {
            case false?:
                files[entry] = try load(path, relative: entry)
            case true?:
                folders.append(entry)
                for file in try list(path, relative: entry + "/") {
                    let filePath = (path as NSString).appendingPathComponent(file)
                    if isDirectory(filePath) == false { files["\(entry)/\(file)"] = try load(filePath, relative: "\(entry)/\(file)") }
                }
            case nil:
                continue   // gone since it was listed (or a dangling link): as if it was never there
            }
        }
        return TemplateFiles(directory: directory, files: files, folders: folders)
    }

    /// The names of the files directly in a top-level folder, sorted.
    func files(in folder: String) -> [String] {
        let prefix = folder + "/"
        return files.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }.sorted()
    }

    /// A file's bytes, nil when there is no such file.
    public func data(_ relative: String) -> Data? { files[relative] }

    /// A file's text, refused when it is not UTF-8.
    func text(_ relative: String) throws(TemplateLoadError) -> String {
        guard let data = files[relative] else { throw TemplateLoadError(file: relative, message: "cannot read file") }
        guard let text = String(data: data, encoding: .utf8) else { throw TemplateLoadError(file: relative, message: "file is not UTF-8 text") }
        return text
    }
}
