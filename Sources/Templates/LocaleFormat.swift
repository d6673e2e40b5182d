import Foundation
import GatewayCore

/// How collections messages print money and dates, per locale. Written out as tables rather than
/// taken from ICU, so the text customers get is exactly what the README documents and tests pin.
public enum LocaleFormat {
    struct NumberStyle {
        var group: String
        var decimal: String
        /// The country's own currency and its symbol.
        var localCurrency: String?
        var localSymbol: String?
        /// Symbols accepted for foreign currencies in this country (e.g. "$" for USD in Costa Rica).
        var foreignSymbols: [String: String] = [:]
    }

    static func style(for locale: String) -> NumberStyle {
        switch locale {
        case "en-US", "en": NumberStyle(group: ",", decimal: ".", localCurrency: "USD", localSymbol: "$")
        case "es-MX": NumberStyle(group: ",", decimal: ".", localCurrency: "MXN", localSymbol: "$")
        case "es-CO": NumberStyle(group: ".", decimal: ",", localCurrency: "COP", localSymbol: "$")
        case "es-CR": NumberStyle(group: " ", decimal: ",", localCurrency: "CRC", localSymbol: "₡", foreignSymbols: ["USD": "$"])
        case "es-CL": NumberStyle(group: ".", decimal: ",", localCurrency: "CLP", localSymbol: "$")
        case "es-PE": NumberStyle(group: ",", decimal: ".", localCurrency: "PEN", localSymbol: "S/ ")
        default:
            locale.hasPrefix("en") ? NumberStyle(group: ",", decimal: ".") : NumberStyle(group: ".", decimal: ",")
        }
    }

    /// ISO 4217 minor-unit digits (List One), where they are not 2: amounts in these currencies
    /// have exactly this many decimals. Every other code has 2.
    static let minorDigits: [String: Int] = [
        "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
        "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
        "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
        "CLF": 4, "UYW": 4,
    ]

    /// The minor-unit digits of an ISO 4217 code (2 unless listed in `minorDigits`).
    public static func digits(of currency: String) -> Int { minorDigits[currency.uppercased()] ?? 2 }

    /// Currencies with cents in ISO 4217 that are written without them when they are zero, as
    /// prices are in those countries: "1250000" COP → "$1.250.000", but "1250000.5" → "$1.250.000,50".
    static let zeroCentsDropped: Set<String> = ["COP", "CRC"]

    /// Why an amount cannot be printed as money, in words for the job's author.
    public enum MoneyProblem: Error, Equatable {
        /// Not a plain decimal number (digits, optional '-' and one '.').
        case notDecimal
        /// The currency is not a three-letter ISO 4217 code.
        case notCurrencyCode
        /// More decimals than the currency has, and the extra ones are not zero: printing it would
        /// round or cut the amount, so it is refused instead.
        case tooPrecise(decimals: Int, currencyDigits: Int)
    }

    /// "125.50" USD in es-CR → "$125,50"; in en-US → "$125.50"; 1250000 COP in es-CO → "$1.250.000";
    /// a foreign currency without a local symbol is written with its ISO code ("USD 1,250.50").
    /// Nil when `formatMoney` refuses it.
    public static func money(_ amount: String, currency: String, locale: String) -> String? {
        try? formatMoney(amount, currency: currency, locale: locale).get()
    }

    /// The amount, read as a decimal string (never through a binary floating-point number), with
    /// exactly the currency's ISO 4217 decimals. Extra decimals are accepted only when they are
    /// zero ("99.990" USD is $99.99); "99.999" USD is refused, never rounded or cut: a collection
    /// message that misstates the amount owed is an incident.
    public static func formatMoney(_ amount: String, currency: String, locale: String) -> Result<String, MoneyProblem> {
        let currency = currency.uppercased()
        guard currency.utf8.count == 3, currency.utf8.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return .failure(.notCurrencyCode) }
        guard let (negative, whole, fraction) = splitDecimal(amount) else { return .failure(.notDecimal) }
        let digits = digits(of: currency)
        var minor = Substring(fraction)
        while minor.count > digits, minor.last == "0" { minor.removeLast() }
        guard minor.count <= digits else { return .failure(.tooPrecise(decimals: fraction.count, currencyDigits: digits)) }
        let style = style(for: locale)
        var cents = String(minor)
        while cents.count < digits { cents += "0" }
        let dropCents = digits == 0 || (zeroCentsDropped.contains(currency) && cents.allSatisfy { $0 == "0" })
        var number = group(whole, with: style.group)
        if !dropCents { number += style.decimal + cents }
        let symbol: String
        if currency == style.localCurrency, let local = style.localSymbol {
            symbol = local
        } else if let foreign = style.foreignSymbols[currency] {
            symbol = foreign
        } else {
            symbol = currency + " "
        }
        return .success((negative ? "-" : "") + symbol + number)
    }

    static func splitDecimal(_ text: String) -> (Bool, String, String)? {
        var digits = Substring(text.trimmingSpaces())
        var negative = false
        if digits.first == "-" {
            negative = true
            digits.removeFirst()
        }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCII), whole.allSatisfy(\.isNumber) else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.allSatisfy({ $0.isASCII && $0.isNumber }), parts.count == 1 || !fraction.isEmpty else { return nil }
        let trimmed = whole.drop { $0 == "0" }
        return (negative, trimmed.isEmpty ? "0" : String(trimmed), String(fraction))
    }

    static func group(_ digits: String, with separator: String) -> String {
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += separator }
            out.append(digit)
        }
        return out
    }

    static let spanishMonths = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"]
    static let englishMonths = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]

    /// "2026-12-01" → "1 de diciembre de 2026" (Spanish) or "December 1, 2026" (English).
    public static func longDate(_ text: String, locale: String) -> String? {
        guard let date = CalendarDate(text) else { return nil }
        if locale.hasPrefix("en") { return "\(englishMonths[date.month - 1]) \(date.day), \(date.year)" }
        return "\(date.day) de \(spanishMonths[date.month - 1]) de \(date.year)"
    }

    /// The first word of a full name, with shouted names calmed ("MARÍA JOSÉ" → "María").
    public static func firstName(_ name: String) -> String? {
        guard let first = name.split(whereSeparator: { $0 == " " || $0 == "\t" }).first else { return nil }
        let word = String(first)
        if word == word.uppercased(), word != word.lowercased() {
            return word.prefix(1).uppercased() + word.dropFirst().lowercased()
        }
        return word
    }
}
