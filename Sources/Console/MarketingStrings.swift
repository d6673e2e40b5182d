import Foundation

/// The words of the sign-in limit (and the marketing pages to come), in both languages.
/// Kept apart from `Phrase` and `Word` like those two tables; a test checks that both languages
/// have every term. `{name}` placeholders are filled by `Visit.m(_:_:)`.
public enum Term: String, Sendable, CaseIterable {
    // Sign-in limit
    case signInLimited, signInLimitedAll
}

public enum Terms {
    public static let english: [Term: String] = [
        .signInLimited: "There have been too many failed sign-ins from your network. Wait {minutes} minutes, then try again with your token.",
        .signInLimitedAll: "Sign-in is paused after too many failed attempts. Wait {minutes} minutes, then try again. If you keep seeing this, tell the operations team.",
    ]

    public static let spanish: [Term: String] = [
        .signInLimited: "Ha habido demasiados intentos fallidos de entrar desde su red. Espere {minutes} minutos y vuelva a intentarlo con su token.",
        .signInLimitedAll: "La entrada está en pausa tras demasiados intentos fallidos. Espere {minutes} minutos y vuelva a intentarlo. Si lo sigue viendo, avise al equipo de operaciones.",
    ]

    public static func text(_ term: Term, _ language: Language, _ values: [String: String] = [:]) -> String {
        var text = (language == .es ? spanish : english)[term] ?? english[term] ?? term.rawValue
        for (key, value) in values { text = text.replacingOccurrences(of: "{\(key)}", with: value) }
        return text
    }
}

extension Visit {
    /// A term of the sign-in limit, tone policy and approval pages in the visit's language.
    func m(_ term: Term, _ values: [String: String] = [:]) -> String { Terms.text(term, language, values) }
}
