import Foundation

/// Where a contact is, for the rules: its country and the time zones it may be in. When only the
/// phone's country is known and it spans several zones (+1 US or Canada, +52), every zone must allow contact.
public struct ContactLocation: Sendable, Equatable {
    /// The country whose rules apply: the region itself, or for a US territory without a rule of its
    /// own in contact-rules.yml, the US (Regulation F applies there).
    public var country: String
    public var timeZones: [String]
    /// How it was found: "contact.timezone", "phone +57", "phone +1 787, Puerto Rico", "default".
    public var source: String
    /// Where the contact is, when that differs from `country`: a US territory ruled as the US ("PR").
    public var region: String?
}

public enum Geography {
    /// Zones chosen by hand for the countries the rules were written for; every other region's zones
    /// come from libphonenumber's prefix data (PhoneNumbering).
    static let countryZones: [String: [String]] = [
        "CR": ["America/Costa_Rica"], "CO": ["America/Bogota"], "PE": ["America/Lima"],
        "CL": ["America/Santiago", "America/Punta_Arenas", "Pacific/Easter"],
        "MX": ["America/Mexico_City", "America/Cancun", "America/Merida", "America/Monterrey", "America/Chihuahua",
               "America/Mazatlan", "America/Hermosillo", "America/Tijuana"],
        "US": ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
               "America/Anchorage", "Pacific/Honolulu"],
        "PA": ["America/Panama"], "GT": ["America/Guatemala"], "SV": ["America/El_Salvador"], "HN": ["America/Tegucigalpa"],
        "NI": ["America/Managua"], "EC": ["America/Guayaquil"], "PY": ["America/Asuncion"], "UY": ["America/Montevideo"],
        "BO": ["America/La_Paz"], "AR": ["America/Argentina/Buenos_Aires"], "VE": ["America/Caracas"], "ES": ["Europe/Madrid"],
        "BR": ["America/Sao_Paulo", "America/Manaus", "America/Fortaleza", "America/Rio_Branco"],
    ]

    /// US territories in the North American Numbering Plan, where Regulation F applies as in the
    /// states: their contacts get the US rule unless contact-rules.yml gives the territory its own.
    public static let usTerritories: Set<String> = ["PR", "VI", "GU", "AS", "MP"]

    /// Region names: libphonenumber's English names, with the ones the rules' sentences use.
    public static let countryNames: [String: String] = {
        var names: [String: String] = [:]
        for (region, _) in PhoneNumbering.allRegionZones { names[region] = PhoneNumbering.name(ofRegion: region) }
        let chosen: [String: String] = [
            "CR": "Costa Rica", "CO": "Colombia", "PE": "Peru", "CL": "Chile", "MX": "Mexico", "US": "the US",
            "PA": "Panama", "GT": "Guatemala", "SV": "El Salvador", "HN": "Honduras", "NI": "Nicaragua", "EC": "Ecuador",
            "PY": "Paraguay", "UY": "Uruguay", "BO": "Bolivia", "AR": "Argentina", "VE": "Venezuela", "ES": "Spain", "BR": "Brazil",
        ]
        return names.merging(chosen) { _, chosen in chosen }
    }()

    /// The region of an E.164 phone: for +1 the area code's country or territory (PR, CA, DO, ...).
    public static func country(ofPhone phone: String) -> String? {
        PhoneNumbering.region(ofPhone: phone)
    }

    /// Every zone a contact of the region may be in.
    public static func zones(ofCountry country: String) -> [String] {
        countryZones[country] ?? PhoneNumbering.zones(ofRegion: country)
    }

    /// Zone → region: the hand-chosen lists first, then the region with the fewest zones that has it
    /// (America/Puerto_Rico is Puerto Rico's, not one of Canada's nine).
    static let zoneCountries: [String: String] = {
        var result: [String: (String, Int)] = [:]
        for (region, zones) in PhoneNumbering.allRegionZones.sorted(by: { $0.region < $1.region }) {
            for zone in zones where result[zone].map({ zones.count < $0.1 }) ?? true { result[zone] = (region, zones.count) }
        }
        var mapped = result.mapValues { $0.0 }
        for (country, zones) in countryZones { for zone in zones { mapped[zone] = country } }
        return mapped
    }()

    public static func country(ofTimeZone zone: String) -> String? {
        zoneCountries[zone]
    }

    /// contact.timezone if it is a real IANA zone, else the phone's region (all its zones), else the
    /// defaults. `hasOwnRule` says whether contact-rules.yml names a country (a US territory that it
    /// does not name is ruled as the US).
    public static func locate(_ contact: Job.Contact, defaultCountry: String, defaultTimeZone: String,
                              hasOwnRule: (String) -> Bool = { _ in false }) -> ContactLocation {
        let phoneRegion = contact.phone.flatMap(country(ofPhone:))
        func rulesCountry(_ region: String) -> String {
            usTerritories.contains(region) && !hasOwnRule(region) ? "US" : region
        }
        if let zone = contact.timezone, TimeZone(identifier: zone) != nil {
            let region = phoneRegion ?? country(ofTimeZone: zone)
            let country = region.map(rulesCountry) ?? defaultCountry
            return ContactLocation(country: country, timeZones: [zone], source: "contact.timezone", region: region == country ? nil : region)
        }
        if let phoneRegion, let phone = contact.phone {
            let zones = zones(ofCountry: phoneRegion)
            if !zones.isEmpty {
                let country = rulesCountry(phoneRegion)
                return ContactLocation(country: country, timeZones: zones, source: phoneSource(phone, region: phoneRegion),
                                       region: phoneRegion == country ? nil : phoneRegion)
            }
        }
        return ContactLocation(country: phoneRegion.map(rulesCountry) ?? defaultCountry, timeZones: [defaultTimeZone], source: "default",
                               region: phoneRegion.flatMap { rulesCountry($0) == $0 ? nil : $0 })
    }

    /// "phone +57"; for +1 outside the US, the area code and the region: "phone +1 787, Puerto Rico".
    static func phoneSource(_ phone: String, region: String) -> String {
        guard let code = PhoneNumbering.callingCode(of: phone) else { return "phone" }
        if code.code == 1 && region != "US" {
            let areaCode = phone.utf8.dropFirst(2).prefix(3)
            return "phone +1 \(String(decoding: areaCode, as: UTF8.self)), \(countryNames[region] ?? region)"
        }
        return "phone +\(code.code)"
    }
}
