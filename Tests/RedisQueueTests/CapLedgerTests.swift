import Foundation
import GatewayCore
import Testing
import TestSupport
@testable import RedisQueue

@Suite struct CapLedgerTests {
    func ledger() throws -> CapLedger { CapLedger(client: try TestRedis.client(), prefix: TestRedis.unique("caps") + ":") }
    let t0 = Date(timeIntervalSince1970: 1_796_000_000)
    let twoPerHour = CapCheck(key: "contact:C-1", ruleID: "two-per-hour", limit: .cap(max: 2, window: 3600), description: "at most 2 messages in 1 hour per contact")

    @Test func capsCountARollingWindow() async throws {
        let ledger = try ledger()
        #expect(try await ledger.check([twoPerHour], member: "J1", now: t0) == .reserved)
        #expect(try await ledger.check([twoPerHour], member: "J2", now: t0.addingTimeInterval(600)) == .reserved)
        // Full: the slot reopens when J1 leaves the window, an hour after it was sent.
        #expect(try await ledger.check([twoPerHour], member: "J3", now: t0.addingTimeInterval(1200))
                == .blocked(ruleID: "two-per-hour", reopensAt: t0.addingTimeInterval(3600), sentence: "at most 2 messages in 1 hour per contact"))
        #expect(try await ledger.check([twoPerHour], member: "J3", now: t0.addingTimeInterval(3601)) == .reserved)
        // A send that did not happen is given back.
        try await ledger.release([twoPerHour], member: "J3")
        #expect(try await ledger.check([twoPerHour], member: "J4", now: t0.addingTimeInterval(3602)) == .reserved)
    }

    @Test func aRepeatedCheckOfTheSameJobIsNotBlockedByItsOwnReservation() async throws {
        let ledger = try ledger()
        let onePerDay = CapCheck(key: "contact_channel:C-1:sms", ruleID: "sms-1-per-day", limit: .cap(max: 1, window: 86_400), description: "one a day")
        #expect(try await ledger.check([onePerDay], member: "J1", now: t0) == .reserved)
        // The batch was interrupted after reserving and is processed again: still J1's slot.
        #expect(try await ledger.check([onePerDay], member: "J1", now: t0.addingTimeInterval(5)) == .reserved)
        #expect(try await ledger.check([onePerDay], member: "J2", now: t0.addingTimeInterval(10))
                == .blocked(ruleID: "sms-1-per-day", reopensAt: t0.addingTimeInterval(86_405), sentence: "one a day"))
    }

    @Test func aRepeatedCheckIsNotHeldUpByItsOwnReservationUnderAGap() async throws {
        let ledger = try ledger()
        let gap = CapCheck(key: "contact:C-1", ruleID: "two-days", limit: .gap(172_800), description: "two days apart")
        #expect(try await ledger.check([twoPerHour, gap], member: "J1", now: t0) == .reserved)
        #expect(try await ledger.check([twoPerHour, gap], member: "J1", now: t0.addingTimeInterval(5)) == .reserved)
        // The repeat moved J1's reservation to t0+5: that is what J2 waits for.
        #expect(try await ledger.check([gap], member: "J2", now: t0.addingTimeInterval(10))
                == .blocked(ruleID: "two-days", reopensAt: t0.addingTimeInterval(172_805), sentence: "two days apart"))
        // Blocked, J2 holds nothing: another job is blocked by J1 alone, and J1's count is still one.
        #expect(try await ledger.client.command(["ZCARD", ledger.prefix + "contact:C-1"]) == .integer(1))
    }

    /// Another worker's clock may run ahead, so the ledger can hold sends later than `now`. A
    /// blocked job's reopening is the same whether or not the job itself was counted on the way.
    @Test func aBlockedSlotReopensWhenTheRightSendLeavesEvenWithSendsAheadOfNow() async throws {
        let ledger = try ledger()
        let key = ledger.prefix + "contact:C-1"
        _ = try await ledger.client.command(["ZADD", key, "\(Int64((t0.timeIntervalSince1970 - 600) * 1000))", "B",
                                             "\(Int64((t0.timeIntervalSince1970 + 600) * 1000))", "A",
                                             "\(Int64((t0.timeIntervalSince1970 + 700) * 1000))", "C"])
        // Three in the hour, two allowed: the second oldest (A, at t0+600) must leave first.
        #expect(try await ledger.check([twoPerHour], member: "J", now: t0)
                == .blocked(ruleID: "two-per-hour", reopensAt: t0.addingTimeInterval(600 + 3600), sentence: "at most 2 messages in 1 hour per contact"))
        #expect(try await ledger.client.command(["ZSCORE", key, "J"]) == .null)
    }

    @Test func aFlushedScriptCacheIsRecoveredWithoutCheckingAnythingTwice() async throws {
        let ledger = try ledger()
        _ = try await ledger.client.command(["SCRIPT", "FLUSH"])
        let checks = (0..<50).map { n in
            ([CapCheck(key: "contact:C-\(n)", ruleID: "one", limit: .cap(max: 1, window: 3600), description: "one an hour")], "J\(n)")
        }
        let results = try await ledger.checkMany(checks, now: t0)
        #expect(results.allSatisfy { $0 == .reserved })
        #expect(try await ledger.checkMany(checks.map { ($0.0, "other-" + $0.1) }, now: t0.addingTimeInterval(1)).allSatisfy { $0 != .reserved })
    }

    /// One call checks many jobs, one after the other: a job sees the slots the jobs before it took,
    /// exactly as separate calls would, across more jobs than one call carries.
    @Test func manyJobsInOneCallAreCheckedInOrder() async throws {
        let ledger = try ledger()
        let onePerDay = { (contact: Int) in
            CapCheck(key: "contact:C-\(contact)", ruleID: "one-a-day", limit: .cap(max: 1, window: 86_400), description: "one a day")
        }
        let gap = CapCheck(key: "debt:D-1", ruleID: "debt-gap", limit: .gap(3600), description: "an hour apart per debt")
        // 300 jobs for 150 contacts: each contact's first job takes its slot, the second is blocked.
        // Jobs 0 and 1 also share a debt gap; job 2 checks without a cap at all.
        var items: [(checks: [CapCheck], member: String)] = (0..<300).map { n in ([onePerDay(n % 150)], "J\(n)") }
        items[0].checks.append(gap)
        items[1] = ([onePerDay(1000), gap], "J1")
        items[2] = ([], "J2")
        let results = try await ledger.checkMany(items, now: t0)
        #expect(results[0] == .reserved)
        #expect(results[1] == .blocked(ruleID: "debt-gap", reopensAt: t0.addingTimeInterval(3600), sentence: "an hour apart per debt"))
        #expect(results[2] == .reserved)
        #expect(results[3..<150].allSatisfy { $0 == .reserved })
        #expect(results[150] == .blocked(ruleID: "one-a-day", reopensAt: t0.addingTimeInterval(86_400), sentence: "one a day"))
        #expect(results[153...].allSatisfy { $0 == .blocked(ruleID: "one-a-day", reopensAt: t0.addingTimeInterval(86_400), sentence: "one a day") })
        // C-1's slot is free for J151 (J1 checked another contact), and C-2's for J152 (J2 had no cap).
        #expect(results[151] == .reserved)
        #expect(results[152] == .reserved)
        // Checked again (an interrupted batch), every job keeps what it had.
        #expect(try await ledger.checkMany(items, now: t0.addingTimeInterval(1)).map { $0 == .reserved } == results.map { $0 == .reserved })
    }

    @Test func checkingWithoutReservingCountsNothing() async throws {
        let ledger = try ledger()
        for n in 0..<5 { #expect(try await ledger.check([twoPerHour], member: "J\(n)", now: t0, reserve: false) == .reserved) }
        #expect(try await ledger.check([twoPerHour], member: "J9", now: t0) == .reserved)
    }

    @Test func gapsAndTheLatestReopeningWins() async throws {
        let ledger = try ledger()
        let gap = CapCheck(key: "contact:C-1", ruleID: "two-days", limit: .gap(172_800), description: "at least 2 days between two messages per contact")
        #expect(try await ledger.check([twoPerHour, gap], member: "J1", now: t0) == .reserved)
        guard case .blocked(let rule, let reopens, _) = try await ledger.check([twoPerHour, gap], member: "J2", now: t0.addingTimeInterval(60)) else {
            Issue.record("gap not enforced")
            return
        }
        #expect(rule == "two-days")
        #expect(reopens == t0.addingTimeInterval(172_800))
        #expect(try await ledger.check([twoPerHour, gap], member: "J2", now: t0.addingTimeInterval(172_800)) == .reserved)
    }

    @Test func twoWorkersNeverBothTakeTheLastSlot() async throws {
        let prefix = TestRedis.unique("race") + ":"
        let workers = [CapLedger(client: try TestRedis.client(), prefix: prefix), CapLedger(client: try TestRedis.client(), prefix: prefix)]
        let fivePerDay = CapCheck(key: "debt:LN-1", ruleID: "five", limit: .cap(max: 5, window: 86_400), description: "5 a day")
        let now = t0
        let reserved = try await withThrowingTaskGroup(of: Bool.self) { group in
            for n in 0..<40 {
                let ledger = workers[n % 2]
                group.addTask { try await ledger.check([fivePerDay], member: "J\(n)", now: now) == .reserved }
            }
            var count = 0
            for try await won in group where won { count += 1 }
            return count
        }
        #expect(reserved == 5)
        #expect(try await workers[0].client.command(["ZCARD", prefix + "debt:LN-1"]) == .integer(5))
    }

    /// Random sends at random times: no rolling window ever holds more than the cap.
    @Test func noWindowEverHoldsMoreThanTheCap() async throws {
        let ledger = try ledger()
        let cap = CapCheck(key: "contact:C-9", ruleID: "three-per-2h", limit: .cap(max: 3, window: 7200), description: "3 in 2 hours")
        var accepted: [Double] = []
        var clock = t0.timeIntervalSince1970
        var seed: UInt64 = 42
        for n in 0..<200 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            clock += Double(seed >> 33 % 1800)
            if try await ledger.check([cap], member: "J\(n)", now: Date(timeIntervalSince1970: clock)) == .reserved { accepted.append(clock) }
        }
        #expect(accepted.count > 10)
        for (index, time) in accepted.enumerated() {
            let inWindow = accepted[...index].filter { $0 > time - 7200 }.count
            #expect(inWindow <= 3, "window ending \(time) holds \(inWindow)")
        }
    }

    // Colombia's one channel a week: a cap on the distinct channels of a contact in a rolling window.
    func oneChannel(_ channel: Channel, contact: String = "C-1") -> CapCheck {
        CapCheck(key: "contact:\(contact):channels", ruleID: "one-channel-a-week", limit: .channels(max: 1, window: 7 * 86_400, channel: channel),
                 description: "Colombia Ley 2300 art. 3: one channel per week", timeZone: "America/Bogota")
    }

    @Test func aChannelCapPassesTheUsedChannelAndHoldsTheOthersWithTheirLastUse() async throws {
        let ledger = try ledger()
        // t0 is 2026-11-30 00:53:20 UTC, 19:53 the evening before in Bogota.
        #expect(try await ledger.check([oneChannel(.sms)], member: "J1", now: t0) == .reserved)
        #expect(try await ledger.check([oneChannel(.sms)], member: "J2", now: t0.addingTimeInterval(86_400)) == .reserved)
        // Another channel waits for the week after the LAST sms (J2), and the sentence says when sms was used.
        #expect(try await ledger.check([oneChannel(.email)], member: "J3", now: t0.addingTimeInterval(2 * 86_400))
                == .blocked(ruleID: "one-channel-a-week", reopensAt: t0.addingTimeInterval(8 * 86_400),
                            sentence: "Colombia Ley 2300 art. 3: one channel per week; sms used 2026-11-30"))
        #expect(try await ledger.check([oneChannel(.email)], member: "J3", now: t0.addingTimeInterval(8 * 86_400)) == .reserved)
        // Now email is the channel of the week.
        guard case .blocked(_, _, let sentence) = try await ledger.check([oneChannel(.push)], member: "J4", now: t0.addingTimeInterval(9 * 86_400)) else {
            Issue.record("a second channel was allowed within the week")
            return
        }
        #expect(sentence == "Colombia Ley 2300 art. 3: one channel per week; email used 2026-12-07")
        // The set holds "<channel>|<job>", nothing else.
        let members = try await ledger.client.command(["ZRANGE", ledger.prefix + "contact:C-1:channels", "0", "-1"])
        #expect(members.array?.compactMap(\.string).sorted() == ["email|J3"])  // J1, J2 left the window and were trimmed
    }

    @Test func aFailedSendOnAChannelGivesTheWeekBack() async throws {
        let ledger = try ledger()
        let checks = [twoPerHour, oneChannel(.sms)]
        #expect(try await ledger.check(checks, member: "J1", now: t0) == .reserved)
        #expect(try await ledger.check([twoPerHour, oneChannel(.email)], member: "J2", now: t0.addingTimeInterval(60)) != .reserved)
        // The sms send failed: released, it holds neither the count nor the channel.
        try await ledger.release(checks, member: "J1")
        #expect(try await ledger.client.command(["ZCARD", ledger.prefix + "contact:C-1:channels"]) == .integer(0))
        #expect(try await ledger.check([twoPerHour, oneChannel(.email)], member: "J2", now: t0.addingTimeInterval(120)) == .reserved)
        // A repeated check of J2 (an interrupted batch), even on another channel, is not blocked by J2 itself.
        #expect(try await ledger.check([twoPerHour, oneChannel(.sms)], member: "J2", now: t0.addingTimeInterval(180)) == .reserved)
        let members = try await ledger.client.command(["ZRANGE", ledger.prefix + "contact:C-1:channels", "0", "-1"])
        #expect(members.array?.compactMap(\.string) == ["sms|J2"])
    }

    /// Two workers, each sending every contact a message on its own channel at the same moment:
    /// for every contact exactly one of them gets the week, never both.
    @Test func twoWorkersNeverUseTwoChannelsForOneContactInAWeek() async throws {
        let prefix = TestRedis.unique("channels") + ":"
        let workers = [CapLedger(client: try TestRedis.client(), prefix: prefix), CapLedger(client: try TestRedis.client(), prefix: prefix)]
        let channels: [Channel] = [.sms, .email]
        let now = t0
        let contacts = 60
        let won = try await withThrowingTaskGroup(of: (Int, Channel)?.self) { group in
            for contact in 0..<contacts {
                for side in 0..<2 {
                    let ledger = workers[side]
                    let check = oneChannel(channels[side], contact: "C-\(contact)")
                    group.addTask {
                        try await ledger.check([check], member: "J\(contact)-\(side)", now: now) == .reserved ? (contact, channels[side]) : nil
                    }
                }
            }
            var won: [Int: [Channel]] = [:]
            for try await result in group { if let (contact, channel) = result { won[contact, default: []].append(channel) } }
            return won
        }
        #expect(won.count == contacts, "some contact got no channel at all")
        #expect(won.values.allSatisfy { $0.count == 1 }, "a contact was reserved on two channels: \(won.filter { $0.value.count > 1 })")
        for contact in 0..<contacts {
            #expect(try await workers[0].client.command(["ZCARD", prefix + "contact:C-\(contact):channels"]) == .integer(1))
        }
    }
}
