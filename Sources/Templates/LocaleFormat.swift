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

    /// Currencies whose amounts carry no minor unit.
    static let wholeCurrencies: Set<String> = ["CLP", "COP", "CRC", "JPY", "PYG"]

    /// "125.50" USD in es-CR → "$125,50"; in en-US → "$125.50"; 1250000 COP in es-CO → "$1.250.000";
    /// a foreign currency without a local symbol is written with its ISO code ("USD 1,250.50").
    /// Nil when the amount is not a plain decimal number or the currency is not an ISO code.
    public static func money(_ amount: String, currency: String, locale: String) -> String? {
        let currency = currency.uppercased()
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else { return nil }
        guard let (negative, whole, fraction) = splitDecimal(amount) else { return nil }
        let style = style(for: locale)
        var cents = String(fraction.prefix(2))
        while cents.count < 2 { cents += "0" }
        let dropCents = wholeCurrencies.contains(currency) && Int(cents) == 0
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
        return (negative ? "-" : "") + symbol + number
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
