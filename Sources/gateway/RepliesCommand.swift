import ArgumentParser
import Foundation
import GatewayCore
import Replies

struct RepliesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replies",
        abstract: "Compliance's tools for customers' replies: classify them, check the lexicons.",
        subcommands: [Classify.self, Lint.self])

    struct Classify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read replies and say what each one asks and how it sounds, with the reasons.",
            discussion: """
                Reads JSON lines {"text": "...", "lang": "es"} (lang optional: es, en, es-MX...) on stdin and writes one \
                JSON line per reply: {"text", "lang", "label", "score", "intents", "promise", "explain"}. A line that \
                cannot be read gets {"line": N, "error": {"code", "message"}} in its place, and the command exits 1.
                Examples:
                  gateway replies classify --text "ya no me escriban"
                  echo '{"text": "I can do $25 on the 15th", "lang": "en"}' | gateway replies classify
                """)

        @Option(help: "Classify this one reply instead of reading stdin.")
        var text: String?

        @Option(help: "The reply's language with --text (es, en; default: guessed from the words).")
        var lang: String?

        @Option(help: "The lexicon folder (default: replies from the gateway configuration, config/replies).")
        var lexicons: String?

        @OptionGroup var options: ConfigOptions

        func run() throws {
            let directory = try lexicons ?? options.load().repliesDirectory
            let loaded: ReplyLexicons
            do { loaded = try ReplyLexiconFile.load(directory: directory) } catch { throw ValidationError(error.message) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            func emit(_ value: some Encodable) {
                let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            }
            if let text {
                do { emit(try loaded.classify(text, language: lang)) } catch { throw ValidationError(error.message) }
                return
            }
            guard lang == nil else { throw ValidationError("--lang goes with --text; on stdin, give \"lang\" in each line") }
            var failed = false
            var number = 0
            while let line = Swift.readLine(strippingNewline: true) {
                number += 1
                if line.allSatisfy(\.isWhitespace) { continue }
                do {
                    let (text, language) = try Self.request(Array(line.utf8))
                    emit(try loaded.classify(text, language: language))
                } catch {
                    failed = true
                    emit(JSONValue.object(["line": .number(Double(number)),
                                           "error": .object(["code": .string(error.code), "message": .string(error.message)])]))
                }
            }
            if failed { throw ExitCode(1) }
        }

        /// One stdin line: {"text": "...", "lang": "es"}, through the strict parser the API uses.
        static func request(_ bytes: [UInt8]) throws(ReplyError) -> (String, String?) {
            let value: JSONValue
            do { value = try JSONParser.parse(bytes) } catch {
                throw ReplyError(code: "not_json", message: "not valid JSON: \(error); write one object per line, like {\"text\": \"ya pagué\", \"lang\": \"es\"}")
            }
            guard case .object(let object) = value else {
                throw ReplyError(code: "wrong_type", message: "each line must be an object like {\"text\": \"ya pagué\"}, got \(value.typeName)")
            }
            if let unknown = object.keys.sorted().first(where: { $0 != "text" && $0 != "lang" }) {
                throw ReplyError(code: "unknown_field", message: "unknown field \"\(unknown)\"; a line has text and, optionally, lang")
            }
            guard case .string(let text)? = object["text"] else {
                throw ReplyError(code: "no_text", message: "each line needs \"text\" as a string")
            }
            switch object["lang"] {
            case nil, .null?: return (text, nil)
            case .string(let language)?: return (text, language)
            case let other?: throw ReplyError(code: "bad_lang", message: "lang must be a string like \"es\" or \"en\", got \(other.typeName)")
            }
        }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the reply lexicons: unknown keys, empty or malformed phrases, duplicates, valences outside -4...4, with file:line.")

        @Argument(help: "The lexicon folder (default: replies from the gateway configuration, config/replies).")
        var path: String?

        @OptionGroup var options: ConfigOptions

        func run() throws {
            let directory = try path ?? options.load().repliesDirectory
            let files: [String: Data]
            do { files = try ReplyLexiconFile.read(directory: directory) } catch { throw ValidationError(error.message) }
            let (findings, lexicons) = ReplyLexiconFile.lexicons(files: files)
            for finding in findings { print(finding) }
            guard let lexicons, findings.isEmpty else {
                print("\(findings.count) error(s); the gateway keeps the last good lexicons until these are fixed")
                throw ExitCode(1)
            }
            for language in lexicons.languages {
                guard let lexicon = lexicons.byLanguage[language] else { continue }
                let phrases = lexicon.intents.values.reduce(0) { $0 + $1.count } + lexicon.cues.values.reduce(0) { $0 + $1.count }
                print("\(language): \(phrases) phrases, \(lexicon.words.count + lexicon.prefixWords.count) sentiment words, \(lexicon.emoji.count) emoji")
            }
            print("\(directory): the reply lexicons are fine")
        }
    }
}
