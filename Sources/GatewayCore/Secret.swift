/// A credential from configuration (an auth token, an API key, a private key, a password). Its
/// value is read only where a request is signed or authenticated (`value`); printed, interpolated,
/// dumped or reflected it is `***`, so a configuration struct can be logged or shown in an error
/// without leaking what it holds.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable,
                      ExpressibleByStringLiteral, Decodable {
    public let value: String

    public init(_ value: String) { self.value = value }
    public init(stringLiteral value: String) { self.value = value }
    public init(from decoder: any Decoder) throws { value = try decoder.singleValueContainer().decode(String.self) }

    public var isEmpty: Bool { value.isEmpty }
    public var description: String { "***" }
    public var debugDescription: String { "***" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

extension DefaultStringInterpolation {
    /// `"App \(apiKey)"` would send `App ***`: write `\(apiKey.value)` where the credential is meant
    /// to go out, and nowhere else.
    @available(*, deprecated, message: "a Secret interpolates as ***; use .value where the credential must go out")
    public mutating func appendInterpolation(_ secret: Secret) { appendLiteral("***") }

    @available(*, deprecated, message: "a Secret interpolates as ***; use .value where the credential must go out")
    public mutating func appendInterpolation(_ secret: Secret?) { appendLiteral("***") }
}
