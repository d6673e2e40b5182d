import Foundation

/// The date and amount a customer commits to, as written and, where possible, normalized.
///
/// JSON: {"date_text": "el viernes", "weekday": "friday", "day": null, "month": null,
/// "relative": null, "amount": "25.00", "amount_text": "$25", "currency": "USD"}. Every key is
/// present; what the reply does not say is null. `weekday` is an English day name; `day` and
/// `month` are numbers ("el 15" gives day 15, "15 de diciembre" day 15 and month 12); `relative`
/// is one of today, tomorrow, day_after_tomorrow, next_week, payday, mid_month, end_of_month
/// (from the lexicon's dates.relative); `amount` has two decimals with no separators ("25 mil" is
/// "25000.00"); `currency` is an ISO code only when the reply names one (USD, ₡ = CRC, S/ = PEN).
public struct PaymentPromise: Sendable, Equatable, Codable {
    public var dateText: String?
    public var weekday: String?
    public var day: Int?
    public var month: Int?
    public var relative: String?
    public var amount: String?
    public var amountText: String?
    public var currency: String?

    public init(dateText: String? = nil, weekday: String? = nil, day: Int? = nil, month: Int? = nil, relative: String? = nil,
                amount: String? = nil, amountText: String? = nil, currency: String? = nil) {
        self.dateText = dateText
        self.weekday = weekday
        self.day = day
        self.month = month
        self.relative = relative
        self.amount = amount
        self.amountText = amountText
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey {
        case dateText = "date_text", weekday, day, month, relative, amount, amountText = "amount_text", currency
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dateText, forKey: .dateText)
        try container.encode(weekday, forKey: .weekday)
        try container.encode(day, forKey: .day)
        try container.encode(month, forKey: .month)
        try container.encode(relative, forKey: .relative)
        try container.encode(amount, forKey: .amount)
        try container.encode(amountText, forKey: .amountText)
        try container.encode(currency, forKey: .currency)
    }

    public var hasDate: Bool { dateText != nil }
    public var hasAmount: Bool { amount != nil }
}

enum PromiseExtraction {
    /// Reads a number as written in Latin America or the US: "20.000" and "20,000" are twenty
    /// thousand, "25,50" and "25.50" are twenty-five and a half, "1.500,50" is 1500.50.
    static func number(_ text: String) -> Double? {
        let dots = text.filter { $0 == "." }.count
        let commas = text.filter { $0 == "," }.count
        var cleaned = text
        if dots > 0 && commas > 0 {
            let lastDot = text.lastIndex(of: ".")!, lastComma = text.lastIndex(of: ",")!
            let decimal: Character = lastDot > lastComma ? "." : ","
            cleaned = String(text.filter { $0 != (decimal == "." ? "," : ".") }).replacingOccurrences(of: String(decimal), with: ".")
        } else if dots + commas > 0 {
            let separator: Character = dots > 0 ? "." : ","
            let after = text.split(separator: separator, omittingEmptySubsequences: false).last ?? ""
            if dots + commas > 1 || after.count == 3 {
                cleaned = text.filter { $0 != separator }
            } else {
                cleaned = text.replacingOccurrences(of: String(separator), with: ".")
            }
        }
        return Double(cleaned)
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    static func wordIs(_ token: ReplyToken?, _ set: Set<String>) -> Bool {
        guard let token, token.kind == .word else { return false }
        return token.forms.contains(where: set.contains)
    }

    static func extract(_ tokens: [ReplyToken], lexicon: ReplyLexicon) -> PaymentPromise {
        var promise = PaymentPromise()
        let dates = lexicon.dates
        let amounts = lexicon.amounts
        var usedAsDate = Set<Int>()
        func text(_ range: ClosedRange<Int>) -> String {
            var result = ""
            for index in range {
                let token = tokens[index]
                if !result.isEmpty && !token.glued && !(tokens[index - 1].kind == .currency) && token.text != "/" && tokens[index - 1].text != "/" {
                    result += " "
                }
                result += token.original
            }
            return result
        }
        func articleStart(_ index: Int) -> Int {
            var start = index
            while start > 0, start > index - 2, wordIs(tokens[start - 1], dates.dayArticles) { start -= 1 }
            return start
        }

        // Dates: a day number with a month, an ordinal or an article; a weekday; a relative day.
        for (index, token) in tokens.enumerated() where promise.dateText == nil {
            if token.kind == .number, let value = number(token.text), value == value.rounded(), (1...31).contains(Int(value)) {
                let day = Int(value)
                let next = index + 1 < tokens.count ? tokens[index + 1] : nil
                // 15 de diciembre
                if wordIs(next, ["de", "of"]), index + 2 < tokens.count, let month = DateWords.lookup(tokens[index + 2], in: dates.months) {
                    let start = articleStart(index)
                    promise.dateText = text(start...(index + 2)); promise.day = day; promise.month = month
                    usedAsDate.insert(index); continue
                }
                // december 15
                if index > 0, let month = DateWords.lookup(tokens[index - 1], in: dates.months) {
                    var end = index
                    if let next, next.glued, wordIs(next, dates.ordinals) { end += 1 }
                    promise.dateText = text(articleStart(index - 1)...end); promise.day = day; promise.month = month
                    usedAsDate.insert(index); continue
                }
                // 15th
                if let next, next.glued, wordIs(next, dates.ordinals) {
                    promise.dateText = text(articleStart(index)...(index + 1)); promise.day = day
                    usedAsDate.insert(index); continue
                }
                // el 15 (not "el 15 mil")
                let followedByAmountWord = next.map { n in n.forms.contains { amounts.multipliers[$0] != nil || amounts.currencies[$0] != nil } } ?? false
                if index > 0, wordIs(tokens[index - 1], dates.dayArticles), !followedByAmountWord, !token.text.contains(where: { $0 == "." || $0 == "," }) {
                    promise.dateText = text(articleStart(index)...index); promise.day = day
                    usedAsDate.insert(index); continue
                }
            }
            if token.kind == .word, let weekday = DateWords.lookup(token, in: dates.weekdays) {
                promise.dateText = text(articleStart(index)...index); promise.weekday = weekday
                continue
            }
        }
        if promise.dateText == nil || promise.weekday == nil && promise.day == nil {
            var best: (start: Int, end: Int, name: String)?
            for (phrase, name) in dates.relative {
                for found in phrase.matches(in: tokens) where best == nil || found.start < best!.start {
                    best = (found.start, found.end, name)
                }
            }
            if let best {
                if promise.dateText == nil { promise.dateText = text(best.start...best.end) }
                promise.relative = best.name
            }
        }

        // Amounts: a currency sign or word, a multiplier (mil, lucas, k), or a number right after a pay verb.
        for (index, token) in tokens.enumerated() where token.kind == .number && !usedAsDate.contains(index) && promise.amount == nil {
            guard var value = number(token.text) else { continue }
            var start = index, end = index
            var currency: String?
            var isAmount = false
            if index > 0, tokens[index - 1].kind == .currency {
                start = index - 1
                currency = amounts.currencies[tokens[index - 1].text].flatMap { $0.isEmpty ? nil : $0 }
                isAmount = true
                if index > 1, let code = tokens[index - 2].forms.compactMap({ amounts.currencies[$0] }).first, !code.isEmpty {
                    start = index - 2; currency = code  // US$ 40, USD $40
                }
            } else if index > 1, tokens[index - 1].text == "/", tokens[index - 2].text == "s" {
                start = index - 2; currency = "PEN"; isAmount = true  // S/ 50
            } else if index > 0, let code = tokens[index - 1].forms.compactMap({ amounts.currencies[$0] }).first {
                start = index - 1; currency = code.isEmpty ? nil : code; isAmount = true  // USD 40
            }
            if index + 1 < tokens.count, let multiplier = tokens[index + 1].forms.compactMap({ amounts.multipliers[$0] }).first {
                value *= multiplier; end = index + 1; isAmount = true
                if let code = tokens[index + 1].forms.compactMap({ amounts.currencies[$0] }).first, !code.isEmpty { currency = code }
            }
            if end + 1 < tokens.count, let code = tokens[end + 1].forms.compactMap({ amounts.currencies[$0] }).first {
                end += 1; isAmount = true
                if !code.isEmpty { currency = code }
            }
            if !isAmount {
                // A bare number within three words after a pay verb ("pagar 20", "I can do 25").
                var back = index - 1
                var seen = 0
                while back >= 0, seen < 3, !tokens[back].isBoundary {
                    if amounts.payVerbs.contains(where: { $0.matches(tokens[back]).0 }) { isAmount = true; break }
                    back -= 1; seen += 1
                }
            }
            guard isAmount else { continue }
            promise.amount = format(value)
            promise.amountText = text(start...end)
            promise.currency = currency
        }
        return promise
    }
}
