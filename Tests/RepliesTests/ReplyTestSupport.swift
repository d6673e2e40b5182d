import Foundation
@testable import Replies

/// The shipped lexicons, as RepliesUnitTests' ReplyTestSupport has them (a test target cannot
/// import another): what the evaluation and the model check read.
enum Shipped {
    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let directory = repository + "/config/replies"

    static let lexicons: ReplyLexicons = {
        do { return try ReplyLexiconFile.load(directory: directory) } catch { fatalError("the shipped lexicons do not load: \(error)") }
    }()

    static func classify(_ text: String, _ language: String? = nil) -> ReplyUnderstanding {
        do { return try lexicons.classify(text, language: language) } catch { fatalError("\(error)") }
    }
}

extension ReplyLexicons {
    var withoutModel: ReplyLexicons {
        var copy = self
        copy.model = nil
        return copy
    }
}
