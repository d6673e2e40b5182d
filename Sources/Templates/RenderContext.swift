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
        for (key, value) in job.data {
            if let converted = convert(value) { root[key] = converted }
            if let text = value.scalarText { scalars[key] = text }
        }
        root["money"] = MoneyHelper(values: scalars, currency: scalars["currency"], locale: locale)
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

struct MoneyHelper: MustacheParent {
    var values: [String: String]
    var currency: String?
    var locale: String

    func child(named name: String) -> Any? {
        guard let amount = values[name], let currency else { return nil }
        return LocaleFormat.money(amount, currency: currency, locale: locale)
    }
}

struct DateHelper: MustacheParent {
    var values: [String: String]
    var locale: String

    func child(named name: String) -> Any? {
        values[name].flatMap { LocaleFormat.longDate($0, locale: locale) }
    }
}
