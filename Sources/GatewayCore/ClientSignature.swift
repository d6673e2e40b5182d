/// The line a phone or mail client adds under the customer's words ("Sent from my iPhone", "Enviado
/// desde mi Galaxy", "Get Outlook for Android"). Both the inbound e-mail parser (which cuts the reply
/// there) and reply understanding (which leaves the line out) ask this one check, so a line one of them
/// keeps as the customer's words the other keeps too.
public enum ClientSignature {
    /// Whether `line` (lower-cased, accents folded, trimmed) is such a line: it opens as clients word
    /// it, names a device or a mail app, and has no other words than those, a model's ("S23", "Note",
    /// "Ultra"), a carrier's and "my", "mi", "for", "para". So "BAJA" above one is a bare keyword, while
    /// "sent from my account" and "enviado desde mi celular, ya pagué" stay the customer's.
    public static func matches(_ line: String) -> Bool {
        guard let opening = openings.first(where: line.hasPrefix) else { return false }
        let words = line.dropFirst(opening.count).split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        return words.contains(where: devices.contains)
            && words.allSatisfy { devices.contains($0) || others.contains($0) || $0.contains(where: \.isNumber) }
    }

    static let openings = ["sent from", "sent via", "sent with", "sent using", "get outlook for", "enviado desde", "enviado con", "enviado via",
                           "enviado usando", "obtener outlook para", "descargar outlook para", "envoye de"]
    static let devices: Set<String> = ["iphone", "ipad", "ipod", "android", "galaxy", "samsung", "huawei", "xiaomi", "redmi", "motorola", "moto", "pixel",
                                       "lg", "nokia", "oppo", "vivo", "honor", "oneplus", "blackberry", "smartphone", "tablet", "mobile", "movil", "celular",
                                       "outlook", "yahoo", "gmail", "aol", "hotmail", "proton", "protonmail", "icloud", "mail", "correo", "windows", "ios"]
    static let others: Set<String> = ["my", "mi", "the", "el", "la", "de", "del", "for", "para", "a", "an", "un", "una", "phone", "telefono", "smartphone",
                                      "apple", "app", "aplicacion", "note", "pro", "max", "plus", "ultra", "mini", "lite", "edge", "fold", "flip", "series",
                                      "wireless", "device", "dispositivo", "4g", "5g", "lte", "verizon", "att", "tmobile", "t", "claro", "movistar", "entel",
                                      "tigo", "kolbi", "telcel", "bitel", "wom", "personal", "inteligente"]
}
