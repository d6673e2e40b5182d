import Foundation
@testable import Replies

/// The lexicons the gateway ships (config/replies/), found from this file's place in the repository.
enum Shipped {
    static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("config/replies").path
    }()

    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let lexicons: ReplyLexicons = {
        do { return try ReplyLexiconFile.load(directory: directory) } catch { fatalError("the shipped lexicons do not load: \(error)") }
    }()

    static func classify(_ text: String, _ language: String? = nil) -> ReplyUnderstanding {
        do { return try lexicons.classify(text, language: language) } catch { fatalError("\(error)") }
    }
}
