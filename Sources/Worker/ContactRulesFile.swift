import Foundation
import GatewayCore
import Templates
import YAMLMessages
import Yams

/// Reads config/contact-rules.yml (and config/holidays/ beside it) into `ContactRules`. Every
/// mistake names the key and what is allowed; unknown keys are refused, not ignored.
public enum ContactRulesFile {
    /// The whole file: the contact rules, and what compliance requires of every template.
    public struct Contents: Sendable {
        public var rules: ContactRules
        public var templates: ComplianceRequirements
    }

    public static func load(path: String) throws(ConfigurationError) -> ContactRules {
        try read(path: path).rules
    }

    /// What `templates:` requires (the opt-out words and the disclosure partials), for linting
    /// templates without running the gateway: none when the file does not exist.
    public static func templateRequirements(path: String) throws(ConfigurationError) -> ComplianceRequirements {
        guard FileManager.default.fileExists(atPath: path) else { return ComplianceRequirements() }
        return try read(path: path).templates
    }

    public static func read(path: String) throws(ConfigurationError) -> Contents {
        let file = path
        func fail(_ message: String) -> ConfigurationError { ConfigurationError("\(file): \(message)") }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw fail("cannot read the contact rules (every gateway needs them: allowed hours are the law)")
        }
        let root: [(String, Node)]
        do {
            guard let node = try Yams.compose(yaml: text), let mapping = node.mapping else { throw fail("must be a mapping") }
            root = mapping.map { ($0.key.string ?? "", $0.value) }
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw fail("not valid YAML: \(YAMLMessages.describe(error))")
        }
        let known: Set<String> = ["default_country", "default_timezone", "allowed_hours", "channel_hours", "caps", "min_gap", "templates"]
        var values: [String: Node] = [:]
        for (key, value) in root {
            guard known.contains(key) else { throw fail("unknown key \"\(key)\" (known: \(known.sorted().joined(separator: ", ")))") }
            values[key] = value
        }
        guard let country = values["default_country"]?.string, country.count == 2 else {
            throw fail("default_country is required: a two-letter country code like CR")
        }
        guard let zone = values["default_timezone"]?.string, TimeZone(identifier: zone) != nil else {
            throw fail("default_timezone is required: an IANA time zone like America/Costa_Rica")
        }
        guard let hoursNode = values["allowed_hours"]?.mapping else { throw fail("allowed_hours is required (with at least default:)") }
        var byCountry: [String: HoursRule] = [:]
        var fallback: HoursRule?
        for (key, value) in hoursNode {
            let name = key.string ?? ""
            let rule = try hoursRule(value, id: "hours-\(name)", place: "allowed_hours.\(name)", country: name, fail: fail)
            if name == "default" { fallback = rule } else { byCountry[name] = rule }
        }
        guard let fallback else { throw fail("allowed_hours.default is required: the hours for countries without their own entry") }
        var byChannel: [Channel: (countries: [String: HoursRule], fallback: HoursRule?)] = [:]
        for (key, value) in values["channel_hours"]?.mapping ?? [:] {
            guard let channel = key.string.flatMap(Channel.init(rawValue:)), let entries = value.mapping else {
                throw fail("channel_hours: \"\(key.string ?? "?")\" must be sms, email or push, mapping countries (or default) to hours")
            }
            var countries: [String: HoursRule] = [:]
            var channelFallback: HoursRule?
            for (countryKey, rule) in entries {
                let name = countryKey.string ?? ""
                let parsed = try hoursRule(rule, id: "hours-\(channel.rawValue)-\(name)", place: "channel_hours.\(channel.rawValue).\(name)", country: name, fail: fail)
                if name == "default" { channelFallback = parsed } else { countries[name] = parsed }
            }
            byChannel[channel] = (countries, channelFallback)
        }
        let holidays = try loadHolidays(directory: ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("holidays"), fail: fail)
        for (country, rule) in byCountry where rule.holidaysClosed && holidays[country] == nil {
            throw fail("allowed_hours.\(country) closes on holidays, but config/holidays/\(country).yml does not exist")
        }
        var caps: [CapRule] = []
        var ids: Set<String> = []
        for (index, item) in (values["caps"]?.sequence ?? []).enumerated() {
            let place = "caps[\(index)]"
            let fields = try fieldsOf(item, place: place, known: ["id", "description", "scope", "max", "max_channels", "window", "channels", "countries"], fail: fail)
            let id = try identifier(fields, place: place, ids: &ids, fail: fail)
            // max: messages in the window; max_channels: distinct channels in the window (one of the two).
            let kind: CapKind
            let max: Int
            switch (fields["max"], fields["max_channels"]) {
            case (let count?, nil):
                guard let value = count.int, value >= 1 else { throw fail("\(place) (\(id)): max must be a whole number of at least 1") }
                (kind, max) = (.messages, value)
            case (nil, let count?):
                guard let value = count.int, value >= 1 else { throw fail("\(place) (\(id)): max_channels must be a whole number of at least 1") }
                (kind, max) = (.channels, value)
            case (_?, _?):
                throw fail("\(place) (\(id)): give max (messages in the window) or max_channels (distinct channels in the window), not both")
            case (nil, nil):
                throw fail("\(place) (\(id)): max must be a whole number of at least 1 (or max_channels, for distinct channels in the window)")
            }
            guard let window = fields["window"]?.string.flatMap(Durations.parse) else { throw fail("\(place) (\(id)): window must be a duration like 7d, 24h or 30m") }
            let capScope = try scope(fields, place: "\(place) (\(id))", fail: fail)
            if kind == .channels && capScope == .contactChannel {
                throw fail("\(place) (\(id)): max_channels counts the channels of a contact or a debt: scope must be contact or debt")
            }
            caps.append(CapRule(id: id, scope: capScope, max: max, window: window,
                                channels: try channels(fields, place: "\(place) (\(id))", fail: fail), countries: try countries(fields, place: "\(place) (\(id))", fail: fail),
                                kind: kind, statement: try statement(fields, place: "\(place) (\(id))", fail: fail)))
        }
        var gaps: [GapRule] = []
        for (index, item) in (values["min_gap"]?.sequence ?? []).enumerated() {
            let place = "min_gap[\(index)]"
            let fields = try fieldsOf(item, place: place, known: ["id", "description", "scope", "gap", "channels", "countries"], fail: fail)
            let id = try identifier(fields, place: place, ids: &ids, fail: fail)
            guard let gap = fields["gap"]?.string.flatMap(Durations.parse) else { throw fail("\(place) (\(id)): gap must be a duration like 48h or 2d") }
            gaps.append(GapRule(id: id, scope: try scope(fields, place: "\(place) (\(id))", fail: fail), gap: gap,
                                channels: try channels(fields, place: "\(place) (\(id))", fail: fail), countries: try countries(fields, place: "\(place) (\(id))", fail: fail),
                                statement: try statement(fields, place: "\(place) (\(id))", fail: fail)))
        }
        let rules = ContactRules(hours: HoursPolicy(byCountry: byCountry, fallback: fallback, byChannel: byChannel, holidays: holidays),
                                 caps: caps, gaps: gaps, defaultCountry: country, defaultTimeZone: zone)
        return Contents(rules: rules, templates: try templateRequirements(values["templates"], fail: fail))
    }

    /// The `templates:` section.
    static func templateRequirements(_ node: Node?, fail: (String) -> ConfigurationError) throws(ConfigurationError) -> ComplianceRequirements {
        guard let node else { return ComplianceRequirements() }
        guard let fields = node.mapping else { throw fail("templates must be a mapping") }
        var result = ComplianceRequirements()
        for (key, value) in fields {
            switch key.string {
            case "opt_out_keywords":
                guard let byChannel = value.mapping else {
                    throw fail("templates.opt_out_keywords must map channels to word lists, like sms: [STOP]")
                }
                for (channelName, words) in byChannel {
                    guard let channel = channelName.string.flatMap(Channel.init(rawValue:)) else {
                        throw fail("templates.opt_out_keywords: \"\(channelName.string ?? "?")\" is not sms, email or push")
                    }
                    guard let list = words.sequence?.compactMap(\.string), !list.isEmpty else {
                        throw fail("templates.opt_out_keywords.\(channel.rawValue) must be a list of words")
                    }
                    result.optOutKeywords[channel] = list
                }
            case "collection_disclosure_partials":
                guard let list = value.sequence?.compactMap(\.string), !list.isEmpty else {
                    throw fail("templates.collection_disclosure_partials must be a list of partial names")
                }
                result.disclosurePartials = list
            default:
                throw fail("templates: unknown key \"\(key.string ?? "?")\" (known: opt_out_keywords, collection_disclosure_partials)")
            }
        }
        return result
    }

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    static func hoursRule(_ node: Node, id: String, place: String, country: String,
                          fail: (String) -> ConfigurationError) throws(ConfigurationError) -> HoursRule {
        guard let mapping = node.mapping else { throw fail("\(place) must map days to hours, like mon-fri: \"08:00-20:00\"") }
        var windows: [Int: [Range<Int>]] = [:]
        var holidaysClosed = false
        var description: String?
        for (key, value) in mapping {
            let name = key.string ?? ""
            if name == "description" { description = value.string; continue }
            if name == "holidays" {
                switch value.string {
                case "closed": holidaysClosed = true
                case "open": holidaysClosed = false
                default: throw fail("\(place).holidays must be closed or open")
                }
                continue
            }
            let days = try dayRange(name, place: place, fail: fail)
            let texts: [String]
            if let single = value.string { texts = [single] } else if let list = value.sequence?.compactMap(\.string) { texts = list } else {
                throw fail("\(place).\(name) must be \"HH:MM-HH:MM\", a list of them, or closed")
            }
            for text in texts where text != "closed" {
                guard let window = parseWindow(text) else {
                    throw fail("\(place).\(name): \"\(text)\" is not a window like 08:00-20:00 (start before end, within one day)")
                }
                for day in days { windows[day, default: []].append(window) }
            }
        }
        let countryName = Geography.countryNames[country] ?? (country == "default" ? "Other countries" : country)
        return HoursRule(id: id, description: description ?? "\(countryName): \(summarize(windows))", windows: windows, holidaysClosed: holidaysClosed)
    }

    static func dayRange(_ text: String, place: String, fail: (String) -> ConfigurationError) throws(ConfigurationError) -> [Int] {
        let parts = text.split(separator: "-").map(String.init)
        guard (1...2).contains(parts.count), let first = dayNames.firstIndex(of: parts[0]), let last = dayNames.firstIndex(of: parts.last!) else {
            throw fail("\(place): \"\(text)\" is not a day or day range (mon, tue, wed, thu, fri, sat, sun, or like mon-fri)")
        }
        var days: [Int] = []
        var day = first
        while true {
            days.append(day + 1)
            if day == last { break }
            day = (day + 1) % 7
        }
        return days
    }

    static func parseWindow(_ text: String) -> Range<Int>? {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let start = minutes(String(parts[0])), let end = minutes(String(parts[1])), start < end else { return nil }
        return start..<end
    }

    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
              (0...24).contains(h), (0...59).contains(m), h * 60 + m <= 1440 else { return nil }
        return h * 60 + m
    }

    static func summarize(_ windows: [Int: [Range<Int>]]) -> String {
        func hhmm(_ m: Int) -> String { String(format: "%02d:%02d", m / 60, m % 60) }
        let labels = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        var groups: [(String, [Int])] = []
        for day in [2, 3, 4, 5, 6, 7, 1] {
            let text = windows[day, default: []].map { "\(hhmm($0.lowerBound))-\(hhmm($0.upperBound))" }.joined(separator: ", ")
            if let last = groups.last, last.0 == text { groups[groups.count - 1].1.append(day) } else { groups.append((text, [day])) }
        }
        let open = groups.filter { !$0.0.isEmpty }.map { text, days in
            "\(text) " + (days.count == 1 ? labels[days[0] - 1] : "\(labels[days.first! - 1])-\(labels[days.last! - 1])")
        }
        return open.isEmpty ? "never" : "allows " + open.joined(separator: ", ")
    }

    static func loadHolidays(directory: String, fail: (String) -> ConfigurationError) throws(ConfigurationError) -> [String: [String: String]] {
        var result: [String: [String: String]] = [:]
        for file in ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() where file.hasSuffix(".yml") {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let text = FileManager.default.contents(atPath: path).flatMap({ String(data: $0, encoding: .utf8) }),
                  let node = try? Yams.compose(yaml: text), let mapping = node.mapping,
                  let country = mapping["country"]?.string, let list = mapping["holidays"]?.sequence else {
                throw ConfigurationError("\(path): must have country: XX and holidays: a list of {date: YYYY-MM-DD, name: ...}")
            }
            var dates: [String: String] = [:]
            for item in list {
                guard let date = item.mapping?["date"]?.string, CalendarDate(date) != nil else {
                    throw ConfigurationError("\(path): every holiday needs date: YYYY-MM-DD")
                }
                guard let name = item.mapping?["name"]?.string, !name.isEmpty else {
                    throw ConfigurationError("\(path): the holiday on \(date) needs a name (it is named in the sentence of a job it defers)")
                }
                // Two holidays on one day (it happens): both names.
                dates[date] = dates[date].map { "\($0) / \(name)" } ?? name
            }
            result[country] = dates
        }
        return result
    }

    static func fieldsOf(_ node: Node, place: String, known: Set<String>, fail: (String) -> ConfigurationError) throws(ConfigurationError) -> [String: Node] {
        guard let mapping = node.mapping else { throw fail("\(place) must be a mapping") }
        var fields: [String: Node] = [:]
        for (key, value) in mapping {
            let name = key.string ?? ""
            guard known.contains(name) else { throw fail("\(place): unknown key \"\(name)\" (known: \(known.sorted().joined(separator: ", ")))") }
            fields[name] = value
        }
        return fields
    }

    static func identifier(_ fields: [String: Node], place: String, ids: inout Set<String>, fail: (String) -> ConfigurationError) throws(ConfigurationError) -> String {
        guard let id = fields["id"]?.string, !id.isEmpty else { throw fail("\(place): id is required") }
        guard ids.insert(id).inserted else { throw fail("\(place): id \"\(id)\" is used twice") }
        return id
    }

    static func scope(_ fields: [String: Node], place: String, fail: (String) -> ConfigurationError) throws(ConfigurationError) -> CapScope {
        guard let scope = fields["scope"]?.string.flatMap(CapScope.init(rawValue:)) else {
            throw fail("\(place): scope must be contact, contact_channel or debt")
        }
        return scope
    }

    /// The rule's own sentence (cite the law there): a non-empty string, when given.
    static func statement(_ fields: [String: Node], place: String, fail: (String) -> ConfigurationError) throws(ConfigurationError) -> String? {
        guard let node = fields["description"] else { return nil }
        guard let text = node.string, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw fail("\(place): description must be a sentence (it is what a reviewer reads when the rule holds a job)")
        }
        return text
    }

    /// Two-letter country codes, when given.
    static func countries(_ fields: [String: Node], place: String, fail: (String) -> ConfigurationError) throws(ConfigurationError) -> [String]? {
        guard let list = fields["countries"] else { return nil }
        let names = list.sequence?.compactMap(\.string) ?? []
        guard !names.isEmpty, names.count == list.sequence?.count,
              names.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isUppercase } }) else {
            throw fail("\(place): countries must be a list of two-letter country codes, like [CO, CL]")
        }
        return names
    }

    static func channels(_ fields: [String: Node], place: String, fail: (String) -> ConfigurationError) throws(ConfigurationError) -> [Channel]? {
        guard let list = fields["channels"] else { return nil }
        let names = list.sequence?.compactMap(\.string) ?? []
        let parsed = names.compactMap(Channel.init(rawValue:))
        guard !names.isEmpty, parsed.count == names.count else { throw fail("\(place): channels must be a list of sms, email, push") }
        return parsed
    }
}
