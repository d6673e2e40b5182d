import Foundation
import Testing
@testable import Replies

@Suite struct PromiseExtractionTests {
    func promise(_ text: String, _ language: String) -> PaymentPromise? {
        let result = Shipped.classify(text, language)
        #expect(result.intents.contains(.promiseToPay), "\(result.explain)")
        return result.promise
    }

    @Test func spanishWeekday() {
        let p = promise("le pago el viernes", "es")
        #expect(p?.dateText == "el viernes")
        #expect(p?.weekday == "friday")
        #expect(p?.amount == nil)
    }

    @Test func englishAmountAndDay() {
        let p = promise("I can do $25 on the 15th", "en")
        #expect(p?.amount == "25.00")
        #expect(p?.amountText == "$25")
        #expect(p?.currency == "USD")
        #expect(p?.day == 15)
        #expect(p?.dateText == "on the 15th")
    }

    @Test func thousandsWordsAndSlang() {
        #expect(promise("te abono 25 mil el lunes", "es")?.amount == "25000.00")
        let lucas = promise("le puedo pagar 50 lucas a fin de mes", "es")
        #expect(lucas?.amount == "50000.00")
        #expect(lucas?.currency == "CLP")
        #expect(lucas?.relative == "end_of_month")
        let colones = promise("le deposito ₡20.000 mañana", "es")
        #expect(colones?.amount == "20000.00")
        #expect(colones?.currency == "CRC")
        #expect(colones?.relative == "tomorrow")
        let soles = promise("pago S/ 150 el 30", "es")
        #expect(soles?.amount == "150.00")
        #expect(soles?.currency == "PEN")
        #expect(soles?.day == 30)
        let usd = promise("I will send USD 40 tomorrow", "en")
        #expect(usd?.amount == "40.00")
        #expect(usd?.currency == "USD")
        #expect(promise("I can pay 1,250.50 next week", "en")?.amount == "1250.50")
    }

    @Test func monthsAndPaydays() {
        let december = promise("le pago el 15 de diciembre", "es")
        #expect(december?.day == 15)
        #expect(december?.month == 12)
        #expect(december?.dateText == "el 15 de diciembre")
        #expect(promise("en la quincena le abono", "es")?.relative == "payday")
        #expect(promise("el dia que me paguen le abono 1500", "es")?.relative == "payday")
        // "al tiro" (CL) and "ya mismo" (CO): right now.
        #expect(promise("al tiro pago, deme 10 min", "es")?.relative == "today")
        #expect(promise("pero ya mismo pago", "es")?.relative == "today")
        let english = promise("I'll pay 100 on December 3rd", "en")
        #expect(english?.month == 12)
        #expect(english?.day == 3)
        #expect(english?.amount == "100.00")
    }

    @Test func noPromiseWithoutDateOrAmount() {
        let result = Shipped.classify("voy a pagar", "es")
        #expect(!result.intents.contains(.promiseToPay))
        #expect(result.promise == nil)
        #expect(result.label == .willing, "\(result.explain)")
    }

    @Test func numbersAreReadAsWritten() {
        #expect(PromiseExtraction.number("20.000") == 20000)
        #expect(PromiseExtraction.number("20,000") == 20000)
        #expect(PromiseExtraction.number("25,50") == 25.5)
        #expect(PromiseExtraction.number("1.500,50") == 1500.5)
        #expect(PromiseExtraction.number("1,500.50") == 1500.5)
    }

    @Test func encodesEveryKey() throws {
        let data = try JSONEncoder().encode(PaymentPromise(dateText: "el viernes", weekday: "friday"))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(Set(object?.keys.map { $0 } ?? []) == ["date_text", "weekday", "day", "month", "relative", "amount", "amount_text", "currency"])
    }
}
