import Foundation

extension PaymentPromise {
    /// The promised day as the start of that day in `zone`, read from the reply's own words
    /// relative to when it arrived: a day and month; a day alone (this month, or next month when
    /// that day has passed); a weekday (the next one, today excluded); or a relative day (today,
    /// tomorrow, day_after_tomorrow, next_week = 7 days, mid_month = the 15th, end_of_month,
    /// payday = the next 15th or last day of the month). Nil when the reply names no date, or a
    /// date that does not exist (31 de febrero) or more than a year away.
    public func date(after now: Date, zone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let today = calendar.startOfDay(for: now)
        let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: today)
        guard let year = parts.year, let thisMonth = parts.month, let todayDay = parts.day, let todayWeekday = parts.weekday else { return nil }
        func make(_ y: Int, _ m: Int, _ d: Int) -> Date? {
            guard let date = calendar.date(from: DateComponents(year: y, month: m, day: d)),
                  calendar.component(.day, from: date) == d, calendar.component(.month, from: date) == m else { return nil }
            return date
        }
        func lastDay(_ y: Int, _ m: Int) -> Int { calendar.range(of: .day, in: .month, for: make(y, m, 1) ?? today)?.count ?? 28 }
        var result: Date?
        if let day {
            if let month {
                // "el 15 de enero" in December is next January.
                result = make(year, month, day).flatMap { $0 < today ? make(year + 1, month, day) : $0 }
            } else {
                result = day >= todayDay ? make(year, thisMonth, day) : (thisMonth == 12 ? make(year + 1, 1, day) : make(year, thisMonth + 1, day))
            }
        } else if let weekday, let index = Self.weekdays.firstIndex(of: weekday.lowercased()) {
            var ahead = (index + 1 - todayWeekday + 7) % 7
            if ahead == 0 { ahead = 7 }
            result = calendar.date(byAdding: .day, value: ahead, to: today)
        } else if let relative {
            switch relative {
            case "today": result = today
            case "tomorrow": result = calendar.date(byAdding: .day, value: 1, to: today)
            case "day_after_tomorrow": result = calendar.date(byAdding: .day, value: 2, to: today)
            case "next_week": result = calendar.date(byAdding: .day, value: 7, to: today)
            case "mid_month": result = todayDay <= 15 ? make(year, thisMonth, 15) : (thisMonth == 12 ? make(year + 1, 1, 15) : make(year, thisMonth + 1, 15))
            case "end_of_month": result = make(year, thisMonth, lastDay(year, thisMonth))
            case "payday":
                result = todayDay <= 15 ? make(year, thisMonth, 15) : make(year, thisMonth, lastDay(year, thisMonth))
            default: result = nil
            }
        }
        guard let result, result >= today, result.timeIntervalSince(today) <= 366 * 86_400 else { return nil }
        return result
    }

    static let weekdays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
}
