import GatewayCore

/// JSON request bodies (opt-outs, template previews) go through the strict parser the jobs use,
/// with the same answers: a key given twice (`{"channel":"sms","channel":"email"}`), invalid
/// UTF-8, trailing text or a bad number is a 400 `not_json` naming the byte, and anything but an
/// object a 400 `wrong_type`. Foundation's decoder would quietly keep one of two values.
enum RequestJSON {
    static func object(_ body: [UInt8], example: String) throws(APIError) -> [String: JSONValue] {
        let value: JSONValue
        do { value = try JSONParser.parse(body) } catch {
            throw APIError(status: .badRequest, code: "not_json", message: "the body is not valid UTF-8 JSON: \(error); send an object like \(example)")
        }
        guard case .object(let object) = value else {
            throw APIError(status: .badRequest, code: "wrong_type", message: "the body must be a JSON object like \(example), got \(value.typeName)")
        }
        return object
    }
}
