import Hummingbird

/// Route parameters (`{id}` in /contacts/{id}/opt-outs, `{name}` in /templates/{name}/preview) as
/// the client meant them. Hummingbird's router splits the path at its slashes and hands each
/// segment over exactly as it was written in the URL, still percent-encoded: without this,
/// `C%20N%C3%BA%C3%B1ez%207` would be recorded as an opt-out for a contact that does not exist
/// while `C Núñez 7` kept getting messages. The router runs this middleware for every route it
/// registers after it (all of them), so each parameter is decoded exactly once, here.
struct PathParameterDecoding<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !context.parameters.isEmpty else { return try await next(request, context) }
        var decoded = Parameters()
        for (name, raw) in context.parameters {
            switch PathSegment.decode(raw) {
            case .success(let text):
                decoded.append(key: name, value: Substring(text))
            case .failure(let problem):
                return JSONResponse.error(.badRequest, "bad_path", "the {\(name)} part of the path, \"\(raw)\", \(problem.reason)")
            }
        }
        var context = context
        context.coreContext.parameters = decoded
        return try await next(request, context)
    }
}

/// Strict percent-decoding (RFC 3986 section 2.1) to UTF-8 text, shared by path segments and the
/// console's form bodies: a `%` must be followed by two hexadecimal digits and the bytes must be
/// UTF-8, or the input is refused (never guessed at). `plusIsSpace` for form encoding only.
public enum PercentDecoding {
    public enum Problem: Error, Equatable {
        /// A `%` not followed by two hexadecimal digits.
        case badEscape
        /// The decoded bytes are not UTF-8.
        case notUTF8
    }

    public static func decode<Bytes: Collection<UInt8>>(_ bytes: Bytes, plusIsSpace: Bool) -> Result<String, Problem> {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let first = bytes.index(after: index)
                guard first != bytes.endIndex, bytes.index(after: first) != bytes.endIndex,
                      let high = hexValue(bytes[first]), let low = hexValue(bytes[bytes.index(after: first)]) else { return .failure(.badEscape) }
                out.append(high << 4 | low)
                index = bytes.index(first, offsetBy: 2)
                continue
            }
            out.append(plusIsSpace && byte == UInt8(ascii: "+") ? 0x20 : byte)
            index = bytes.index(after: index)
        }
        guard let text = String(validating: out, as: UTF8.self) else { return .failure(.notUTF8) }
        return .success(text)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Percent-decoding of one path segment (RFC 3986 section 2.1). `+` stays a plus sign: it means a
/// space only in form-encoded query strings, never in a path. A `/` inside an id arrives as `%2F`
/// and is decoded after routing, so it never splits the path.
enum PathSegment {
    struct Problem: Error, Equatable { var reason: String }

    static func decode(_ raw: Substring) -> Result<String, Problem> {
        guard raw.utf8.contains(UInt8(ascii: "%")) else {
            return containsControl(raw) ? .failure(Problem(reason: "contains a control character")) : .success(String(raw))
        }
        switch PercentDecoding.decode(raw.utf8, plusIsSpace: false) {
        case .failure(.badEscape):
            return .failure(Problem(reason: "has a '%' that is not followed by two hexadecimal digits (write a literal % as %25)"))
        case .failure(.notUTF8):
            return .failure(Problem(reason: "does not decode to valid UTF-8 (percent-encode the UTF-8 bytes of each character, e.g. ú as %C3%BA)"))
        case .success(let text):
            guard !containsControl(Substring(text)) else { return .failure(Problem(reason: "decodes to text with a control character")) }
            return .success(text)
        }
    }

    private static func containsControl(_ text: Substring) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }
}
