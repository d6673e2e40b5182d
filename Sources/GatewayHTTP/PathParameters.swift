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

/// Percent-decoding of one path segment (RFC 3986 section 2.1). `+` stays a plus sign: it means a
/// space only in form-encoded query strings, never in a path. A `/` inside an id arrives as `%2F`
/// and is decoded after routing, so it never splits the path.
enum PathSegment {
    struct Problem: Error, Equatable { var reason: String }

    static func decode(_ raw: Substring) -> Result<String, Problem> {
        let bytes = Array(raw.utf8)
        guard bytes.contains(UInt8(ascii: "%")) else {
            return containsControl(raw) ? .failure(Problem(reason: "contains a control character")) : .success(String(raw))
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                index += 1
                continue
            }
            guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else {
                return .failure(Problem(reason: "has a '%' that is not followed by two hexadecimal digits (write a literal % as %25)"))
            }
            out.append(high << 4 | low)
            index += 3
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            return .failure(Problem(reason: "does not decode to valid UTF-8 (percent-encode the UTF-8 bytes of each character, e.g. ú as %C3%BA)"))
        }
        guard !containsControl(Substring(text)) else { return .failure(Problem(reason: "decodes to text with a control character")) }
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

    private static func containsControl(_ text: Substring) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }
}
