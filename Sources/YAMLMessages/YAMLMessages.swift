import Yams

/// What is wrong with a YAML file, in one or two lines a person editing it can act on.
///
/// Yams describes a key written twice in one mapping with the whole mapping's text as "context" (for a
/// top-level key, the whole file: thousands of lines in a lexicon), so every config reader here words
/// its parse errors through this instead of printing the error itself.
public enum YAMLMessages {
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? YamlError else { return "\(error)" }
        switch error {
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            return "a key is written twice in the mapping at line \(context.mark.line), column \(context.mark.column): \(keys); keep one"
        default:
            // The others name the line and column and quote that one line, with a caret under the column.
            return "\(error)".trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
