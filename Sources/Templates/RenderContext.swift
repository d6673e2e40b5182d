import GatewayCore

/// What a template can use: every key of the job's `data` at the top level, plus `contact` (id, name,
/// first_name, locale, timezone) and `job` (id, debt_id, segment, category). Values are strings,
/// booleans, lists and objects; numbers become the text a customer reads.
public enum RenderContext {
    public static func make(for job: Job) -> [String: Any] {
        var root: [String: Any] = [:]
        for (key, value) in job.data {
            if let converted = convert(value) { root[key] = converted }
        }
        var contact: [String: Any] = ["id": job.contact.id]
        if let name = job.contact.name {
            contact["name"] = name
            if let first = name.split(whereSeparator: { $0 == " " || $0 == "\t" }).first { contact["first_name"] = String(first) }
        }
        if let locale = job.contact.locale { contact["locale"] = locale }
        if let timezone = job.contact.timezone { contact["timezone"] = timezone }
        root["contact"] = contact
        var jobInfo: [String: Any] = ["id": job.id, "category": job.category.rawValue]
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
