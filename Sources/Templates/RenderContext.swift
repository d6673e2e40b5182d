import GatewayCore
import Mustache

/// What a template can use:
/// - every key of the job's `data` at the top level (`{{amount_due}}`), as given;
/// - `{{money.KEY}}`: data.KEY as money in data.currency for the contact's locale;
/// - `{{date.KEY}}`: data.KEY (YYYY-MM-DD) spelled out for the contact's locale;
/// - `contact` (id, name, first_name, locale, timezone) and `job` (id, debt_id, segment, category).
/// A helper whose input is missing or unusable has no value, so strict rendering refuses the job.
public enum RenderContext {
    public static func make(for job: Job, locale: String, category: Category) -> [String: Any] {
        // Sized up front: growing a dictionary rehashes it.
        var root = [String: Any](minimumCapacity: job.data.count + 4)
        var scalars = [String: String](minimumCapacity: job.data.count)
        var numberKeys: Set<String> = []
        for (key, value) in job.data {
            if let converted = convert(value) { root[key] = converted }
            if let text = value.scalarText { scalars[key] = text }
            if case .number = value { numberKeys.insert(key) }
        }
        root["money"] = MoneyHelper(values: scalars, currency: scalars["currency"], locale: locale, numberKeys: numberKeys)
        root["date"] = DateHelper(values: scalars, locale: locale)
        var contact: [String: Any] = ["id": job.contact.id]
        if let name = job.contact.name {
            contact["name"] = name
            if let first = LocaleFormat.firstName(name) { contact["first_name"] = first }
        }
        if let locale = job.contact.locale { contact["locale"] = locale }
        if let timezone = job.contact.timezone { contact["timezone"] = timezone }
        root["contact"] = contact
        var jobInfo: [String: Any] = ["id": job.id, "category": category.rawValue]
        if let debt = job.debtID { jobInfo["debt_id"] = debt }
        if let segment = job.segment { jobInfo["segment"] = segment }
        root["job"] = jobInfo
        return root
    }

    static func convert(_ value: JSONValue) -> Any? {
        switch value {
        case .null: return nil
        case .bool(let flag): return flag
        case .number, .string: return value.scalarText
        case .array(let items): return items.compactMap(convert)
        case .object(let object): return object.compactMapValues(convert)
        }
    }
}

/// `{{money.KEY}}`. An amount that cannot be printed exactly has no value here (so rendering is
/// refused), and `problem(named:)` says why, for the `invalid_value` refusal.
struct MoneyHelper: MustacheParent {
    var values: [String: String]
    var currency: String?
    var locale: String
    /// Keys of `data` that came as JSON numbers (read as binary doubles) rather than strings.
    var numberKeys: Set<String> = []

    func child(named name: String) -> Any? {
        guard let amount = values[name], let currency else { return nil }
        if numberKeys.contains(name), !Self.keepsItsDigits(amount) { return nil }
        return try? LocaleFormat.formatMoney(amount, currency: currency, locale: locale).get()
    }

    /// Why data.NAME is present but cannot be printed as money; nil when it can, or when the
    /// amount or the currency is simply missing (that is a missing variable).
    func problem(named name: String) -> String? {
        guard let amount = values[name], let currency else { return nil }
        if numberKeys.contains(name), !Self.keepsItsDigits(amount) {
            return "data.\(name) \(amount) is a JSON number with more digits than it can carry exactly; send amounts as decimal strings, like \"125.50\""
        }
        switch LocaleFormat.formatMoney(amount, currency: currency, locale: locale) {
        case .success:
            return nil
        case .failure(.notDecimal):
            return "data.\(name) \"\(amount)\" is not a decimal amount (digits with an optional '-' and one '.', like 125.50)"
        case .failure(.notCurrencyCode):
            return "data.currency \"\(currency)\" is not an ISO 4217 currency code like USD"
        case .failure(.tooPrecise(let decimals, let digits)):
            return "data.\(name) \(amount) has \(decimals) decimal\(decimals == 1 ? "" : "s"); \(currency.uppercased()) has \(digits)"
        }
    }

    /// A JSON number is parsed into a double, which holds any decimal of up to 15 significant
    /// digits exactly as written; beyond that the text printed back may not be what was sent.
    static func keepsItsDigits(_ text: String) -> Bool {
        let digits = text.utf8.drop { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: ".") }
        var significant = 0
        var pendingZeros = 0
        for byte in digits where byte != UInt8(ascii: ".") {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return false }
            if byte == UInt8(ascii: "0") { pendingZeros += 1 } else { significant += pendingZeros + 1; pendingZeros = 0 }
        }
        // Trailing zeros of an integer are significant ("9007199254740990" has 16 digits).
        if !text.utf8.contains(UInt8(ascii: ".")) { significant += pendingZeros }
        return significant <= 15
    }
}

struct DateHelper: MustacheParent {
    var values: [String: String]
    var locale: String

    func child(named name: String) -> Any? {
        values[name].flatMap { LocaleFormat.longDate($0, locale: locale) }
    }
}
