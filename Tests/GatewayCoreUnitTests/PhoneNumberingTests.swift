import Foundation
import Testing
@testable import GatewayCore

/// A job asking for `channels` with `phone` as contact.phone (and an email, so email-only jobs decode).
private func phoneJob(_ phone: String, channels: [String] = ["sms"]) -> String {
    let list = channels.map { "\"\($0)\"" }.joined(separator: ",")
    return """
    {"id": "J-1", "template": "payment-reminder", "channels": [\(list)],
     "contact": {"id": "C-1", "phone": "\(phone)", "email": "ana@example.com"}}
    """
}

@Suite struct PhoneNumberingTests {
    @Test(arguments: [
        // Too short and too long for Costa Rica (8 digits after +506; 10-digit service numbers cannot take an SMS).
        ("+5068888", ["sms"], "contact.phone +5068888: Costa Rica mobile numbers have 8 digits after +506; this one has 4"),
        ("+506888877771", ["sms"], "contact.phone +506888877771: Costa Rica mobile numbers have 8 digits after +506; this one has 9"),
        ("+5068888", ["email"], "contact.phone +5068888: Costa Rica numbers have 8 or 10 digits after +506; this one has 4"),
        // +1: always 10 digits; the area code names the country.
        ("+1415555012", ["sms"], "contact.phone +1415555012: United States numbers have 10 digits after +1; this one has 9"),
        ("+178755501234", ["sms"], "contact.phone +178755501234: Puerto Rico numbers have 10 digits after +1; this one has 11"),
        ("+57300123456", ["sms"], "contact.phone +57300123456: Colombia mobile numbers have 10 digits after +57; this one has 9"),
        ("+5255123456789", ["sms"], "contact.phone +5255123456789: Mexico numbers have 10 digits after +52; this one has 11"),
        ("+5698765432", ["sms"], "contact.phone +5698765432: Chile mobile numbers have 9 digits after +56; this one has 8"),
    ])
    func impossibleLengthsAreInvalidPhones(phone: String, channels: [String], message: String) {
        guard case .failure(let rejection) = decode(phoneJob(phone, channels: channels)) else {
            Issue.record("\(phone) was accepted")
            return
        }
        #expect(rejection.code.rawValue == "invalid_phone")
        #expect(rejection.message == message)
        #expect(rejection.jobID == "J-1" && rejection.contactID == "C-1")
    }

    @Test(arguments: [
        "+50688887777", "+525512345678", "+573001234567", "+56912345678", "+51987654321", "+14155550123",
        "+17875550123", "+17095550123", "+18095550123", "+16715550123", "+5491123456789", "+34600123456",
        // A code no numbering plan uses keeps today's check (E.164 shape only).
        "+9990001234",
    ])
    func validNumbersPass(phone: String) throws {
        let job = try decode(phoneJob(phone)).get()
        #expect(job.contact.phone == phone)
    }

    @Test func aLandlineCannotTakeAnSMSButMayBeGivenForOtherChannels() throws {
        // Costa Rica's fixed lines start with 2, its mobiles with 5-8; Colombia's fixed lines with 60, mobiles with 3.
        guard case .failure(let rejection) = decode(phoneJob("+50622223333")) else {
            Issue.record("an SMS to a Costa Rican landline was accepted")
            return
        }
        #expect(rejection.code.rawValue == "invalid_phone")
        #expect(rejection.message == "contact.phone +50622223333 is a fixed line (Costa Rica numbers starting 22 after +506 are landlines) and cannot take an SMS: give a mobile number or leave sms out of channels")
        guard case .failure(let colombia) = decode(phoneJob("+576014567890")) else {
            Issue.record("an SMS to a Bogota landline was accepted")
            return
        }
        #expect(colombia.message.contains("Colombia numbers starting 6 after +57 are landlines"))
        #expect(try decode(phoneJob("+50622223333", channels: ["email"])).get().contact.phone == "+50622223333")
        // +1 mixes fixed and mobile numbers in every area code: never refused as a landline.
        #expect(PhoneNumbering.problem(with: "+12125550123", forSMS: true) == nil)
    }

    /// Channels are an order of preference: a fixed line only refuses the job when sms is all it asks for.
    @Test func aLandlineWithAnotherChannelDecodesAndOnlySMSOnlyJobsAreRefused() throws {
        #expect(try decode(phoneJob("+50622223333", channels: ["sms", "email"])).get().channels == [.sms, .email])
        #expect(try decode(phoneJob("+50622223333", channels: ["email", "sms"])).get().contact.phone == "+50622223333")
        // A 10-digit Costa Rican number is possible (a service number) but never a mobile: the same.
        #expect(try decode(phoneJob("+5068001234567", channels: ["sms", "email"])).get().contact.phone == "+5068001234567")
        guard case .failure(let smsOnly) = decode(phoneJob("+50622223333", channels: ["sms"])),
              case .failure(let longSMSOnly) = decode(phoneJob("+5068001234567", channels: ["sms"])),
              case .failure(let tooShort) = decode(phoneJob("+5068888", channels: ["sms", "email"])) else {
            Issue.record("an sms-only job to a fixed line, or a number too short for any use, was accepted")
            return
        }
        #expect(smsOnly.code.rawValue == "invalid_phone")
        #expect(smsOnly.message == "contact.phone +50622223333 is a fixed line (Costa Rica numbers starting 22 after +506 are landlines) and cannot take an SMS: give a mobile number or leave sms out of channels")
        #expect(longSMSOnly.message == "contact.phone +5068001234567: Costa Rica mobile numbers have 8 digits after +506; this one has 10")
        // A length impossible for the country is wrong for every channel.
        #expect(tooShort.code.rawValue == "invalid_phone")
        #expect(tooShort.message == "contact.phone +5068888: Costa Rica numbers have 8 or 10 digits after +506; this one has 4")
    }

    @Test func smsUnreachableSaysWhyAFixedLineCannotTakeAnSMS() {
        #expect(PhoneNumbering.smsUnreachable("+50622223333") == "contact.phone +50622223333 is a fixed line (Costa Rica numbers starting 22 after +506 are landlines); SMS needs a mobile")
        #expect(PhoneNumbering.smsUnreachable("+576014567890") == "contact.phone +576014567890 is a fixed line (Colombia numbers starting 6 after +57 are landlines); SMS needs a mobile")
        #expect(PhoneNumbering.smsUnreachable("+5068001234567") == "contact.phone +5068001234567 has 10 digits after +506, and Costa Rica mobile numbers have 8; SMS needs a mobile")
        for mobile in ["+50688887777", "+573001234567", "+12125550123", "+5491123456789", "+9990001234"] {
            #expect(PhoneNumbering.smsUnreachable(mobile) == nil, "\(mobile)")
        }
    }

    @Test(arguments: [
        ("+17875550123", "PR"), ("+19395550123", "PR"), ("+13405550123", "VI"), ("+16715550123", "GU"),
        ("+16845550123", "AS"), ("+16705550123", "MP"), ("+17095550123", "CA"), ("+14165550123", "CA"),
        ("+18095550123", "DO"), ("+18295550123", "DO"), ("+18495550123", "DO"), ("+18765550123", "JM"),
        ("+12425550123", "BS"), ("+14155550123", "US"), ("+12125550123", "US"),
        // An area code not assigned in the metadata counts as the US, as every +1 number did before.
        ("+12005550123", "US"),
        ("+50688887777", "CR"), ("+573001234567", "CO"), ("+79161234567", "RU"), ("+442071234567", "GB"),
    ])
    func theRegionComesFromTheCallingCodeAndTheAreaCode(phone: String, region: String) {
        #expect(PhoneNumbering.region(ofPhone: phone) == region)
    }

    @Test func theTablesAreWholeAndTheirZonesAreReal() {
        // Every country code the gateway knew before, and more.
        for code in [1, 7, 34, 44, 51, 52, 54, 55, 56, 57, 58, 502, 503, 504, 505, 506, 507, 591, 593, 595, 598] {
            #expect(PhoneNumbering.tables.codes[code] != nil, "+\(code) missing")
        }
        #expect(PhoneNumbering.tables.codes.compactMap { $0 }.count > 200)
        #expect(PhoneNumbering.tables.nanp.compactMap { $0 }.count > 400)
        var unknown: [String] = []
        for (region, zones) in PhoneNumbering.allRegionZones {
            for zone in zones where TimeZone(identifier: zone) == nil { unknown.append("\(region): \(zone)") }
        }
        #expect(unknown.isEmpty, "zones Foundation does not know: \(unknown)")
        #expect(PhoneNumbering.zones(ofRegion: "CA").first == "America/St_Johns")
        #expect(PhoneNumbering.zones(ofRegion: "PR") == ["America/Puerto_Rico"])
        #expect(PhoneNumbering.name(ofRegion: "AS") == "American Samoa")
    }
}
