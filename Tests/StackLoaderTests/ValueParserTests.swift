/// The typed scalars of the stack language: durations, sizes, percentages, conditions and backup frequencies.

import StackModel
import XCTest

final class TimeSpanParsingTests: XCTestCase {
    func testEveryUnitConvertsToMilliseconds() {
        XCTAssertEqual(TimeSpan(parsing: "100ms")?.milliseconds, 100)
        XCTAssertEqual(TimeSpan(parsing: "30s")?.milliseconds, 30_000)
        XCTAssertEqual(TimeSpan(parsing: "5m")?.milliseconds, 300_000)
        XCTAssertEqual(TimeSpan(parsing: "1h")?.milliseconds, 3_600_000)
        XCTAssertEqual(TimeSpan(parsing: "30d")?.milliseconds, 2_592_000_000)
        XCTAssertEqual(TimeSpan(parsing: "2w")?.milliseconds, 1_209_600_000)
    }

    func testFractionsZeroAndSurroundingWhitespaceAreAccepted() {
        XCTAssertEqual(TimeSpan(parsing: "1.5m")?.milliseconds, 90_000)
        XCTAssertEqual(TimeSpan(parsing: "0.25s")?.milliseconds, 250)
        XCTAssertEqual(TimeSpan(parsing: "0s")?.milliseconds, 0)
        XCTAssertEqual(TimeSpan(parsing: "  10s ")?.milliseconds, 10_000)
    }

    func testANumberWithoutAUnitIsRejectedBecauseTheUnitIsThePoint() {
        XCTAssertNil(TimeSpan(parsing: "300"))
        XCTAssertNil(TimeSpan(parsing: "0"))
    }

    func testWordsNegativesUnknownUnitsAndSpacesBeforeTheUnitAreRejected() {
        for text in ["thirty", "", "s", "ms", "-5s", "5 s", "5M", "5sec", "1y", "1e3s", "5s5", "+5s", "1..5s", "∞s"] {
            XCTAssertNil(TimeSpan(parsing: text), "«\(text)» must not parse as a duration")
        }
    }

    func testSpansBeyondInt64MillisecondsAreRejectedRatherThanTrapping() {
        XCTAssertNil(TimeSpan(parsing: "99999999999999999999d"))
        XCTAssertNil(TimeSpan(parsing: "1000000000000000w"))
        XCTAssertEqual(TimeSpan(parsing: "100000000d")?.milliseconds, 8_640_000_000_000_000)
    }

    func testDescriptionIsTheShortestExactSpelling() {
        XCTAssertEqual(TimeSpan(milliseconds: 90_000).description, "90s")
        XCTAssertEqual(TimeSpan(milliseconds: 3_600_000).description, "1h")
        XCTAssertEqual(TimeSpan(milliseconds: 1_500).description, "1500ms")
        XCTAssertEqual(TimeSpan(milliseconds: 0).description, "0s")
        XCTAssertEqual(TimeSpan.seconds(86_400 * 14).description, "2w")
    }

    func testOrderingFollowsLength() {
        XCTAssertLessThan(TimeSpan(parsing: "59s")!, TimeSpan(parsing: "1m")!)
        XCTAssertEqual(TimeSpan(parsing: "60s"), TimeSpan(parsing: "1m"))
    }
}

final class ByteSizeParsingTests: XCTestCase {
    func testDecimalUnitsArePowersOfAThousand() {
        XCTAssertEqual(ByteSize(parsing: "32GB")?.bytes, 32_000_000_000)
        XCTAssertEqual(ByteSize(parsing: "500GB")?.bytes, 500_000_000_000)
        XCTAssertEqual(ByteSize(parsing: "1KB")?.bytes, 1_000)
        XCTAssertEqual(ByteSize(parsing: "2MB")?.bytes, 2_000_000)
        XCTAssertEqual(ByteSize(parsing: "10TB")?.bytes, 10_000_000_000_000)
        XCTAssertEqual(ByteSize(parsing: "1PB")?.bytes, 1_000_000_000_000_000)
        XCTAssertEqual(ByteSize(parsing: "100B")?.bytes, 100)
    }

    func testBinaryUnitsArePowersOf1024WithOrWithoutTheTrailingB() {
        XCTAssertEqual(ByteSize(parsing: "1Ti")?.bytes, 1 << 40)
        XCTAssertEqual(ByteSize(parsing: "1TiB")?.bytes, 1 << 40)
        XCTAssertEqual(ByteSize(parsing: "8GiB")?.bytes, 8 << 30)
        XCTAssertEqual(ByteSize(parsing: "4Gi")?.bytes, 4 << 30)
        XCTAssertEqual(ByteSize(parsing: "512Mi")?.bytes, 512 << 20)
        XCTAssertEqual(ByteSize(parsing: "0.5Ki")?.bytes, 512)
        XCTAssertEqual(ByteSize(parsing: "1Pi")?.bytes, 1 << 50)
    }

    func testTheUserSpellingIsKeptAndEqualityIsByBytes() {
        XCTAssertEqual(ByteSize(parsing: "32 GB")?.text, "32GB")
        XCTAssertEqual(ByteSize(parsing: "1.5KB")?.bytes, 1_500)
        XCTAssertEqual(ByteSize(parsing: "1024B"), ByteSize(parsing: "1Ki"))
        XCTAssertEqual(ByteSize(parsing: "1Ti")?.description, "1Ti")
        XCTAssertLessThan(ByteSize(parsing: "1TB")!, ByteSize(parsing: "1Ti")!)
    }

    func testMissingNumbersUnknownOrLowercaseUnitsAndNegativesAreRejected() {
        for text in ["GB", "32", "32gb", "32 gigs", "-1GB", "1EB", "1Zi", "", "1.2.3GB", "lots", "32G", "1e3GB"] {
            XCTAssertNil(ByteSize(parsing: text), "«\(text)» must not parse as a size")
        }
    }

    func testSizesBeyondSixteenExbibytesAreRejectedRatherThanWrapping() {
        XCTAssertNil(ByteSize(parsing: "99999PB"))
        XCTAssertNil(ByteSize(parsing: "18446744073709551616B"))
    }
}

final class PercentageParsingTests: XCTestCase {
    func testPlainAndPercentSignedNumbersFromZeroToAHundred() {
        XCTAssertEqual(Percentage(parsing: "70")?.value, 70)
        XCTAssertEqual(Percentage(parsing: "70%")?.value, 70)
        XCTAssertEqual(Percentage(parsing: "12.5%")?.value, 12.5)
        XCTAssertEqual(Percentage(parsing: "0")?.value, 0)
        XCTAssertEqual(Percentage(parsing: "100%")?.value, 100)
    }

    func testOutOfRangeAndNonNumbersAreRejected() {
        for text in ["150", "100.1", "-1", "abc", "%", "", "nan", "inf", "seventy%"] {
            XCTAssertNil(Percentage(parsing: text), "«\(text)» must not parse as a percentage")
        }
    }

    func testDescriptionDropsAWholeNumbersFraction() {
        XCTAssertEqual(Percentage(70).description, "70%")
        XCTAssertEqual(Percentage(12.5).description, "12.5%")
    }
}

final class ConditionParsingTests: XCTestCase {
    func testMetricOperatorAndNumericThreshold() {
        let c = Condition(parsing: "cpu_utilization > 90")
        XCTAssertEqual(c?.metric, "cpu_utilization")
        XCTAssertEqual(c?.comparison, .greater)
        XCTAssertEqual(c?.threshold, .number(90))
    }

    func testTwoCharacterOperatorsAreNotReadAsTheirFirstCharacter() {
        XCTAssertEqual(Condition(parsing: "memory.used >= 80.5")?.comparison, .greaterOrEqual)
        XCTAssertEqual(Condition(parsing: "memory.used >= 80.5")?.threshold, .number(80.5))
        XCTAssertEqual(Condition(parsing: "free<=0.1")?.comparison, .lessOrEqual)
        XCTAssertEqual(Condition(parsing: "errors != 0")?.comparison, .notEqual)
        XCTAssertEqual(Condition(parsing: "latency < 5")?.comparison, .less)
        XCTAssertEqual(Condition(parsing: "replicas == 3")?.comparison, .equal)
    }

    func testQuotedTextThresholdsInSingleOrDoubleQuotes() {
        XCTAssertEqual(Condition(parsing: "node_status == 'down'")?.threshold, .string("down"))
        XCTAssertEqual(Condition(parsing: "node_status != \"up\"")?.threshold, .string("up"))
        XCTAssertEqual(Condition(parsing: "temperature < -5")?.threshold, .number(-5))
    }

    func testAQuotedThresholdMayContainAnOperator() {
        let c = Condition(parsing: "last_error != 'disk >= 90%'")
        XCTAssertEqual(c?.metric, "last_error")
        XCTAssertEqual(c?.comparison, .notEqual)
        XCTAssertEqual(c?.threshold, .string("disk >= 90%"))
    }

    func testDescriptionRoundTrips() {
        for text in ["cpu_utilization > 90", "node_status == 'down'", "disk.free <= 0.1", "message == 'a < b'"] {
            XCTAssertEqual(Condition(parsing: text)?.description, text)
        }
    }

    func testMissingPartsBareWordsAndBadMetricNamesAreRejected() {
        for text in ["> 90", "cpu >", "cpu > high", "cpu usage > 90", "9cpu > 1", "", "cpu_utilization", "cpu > 'open",
                     "cpu => 5", "cpu ~ 5"] {
            XCTAssertNil(Condition(parsing: text), "«\(text)» must not parse as a condition")
        }
    }
}

final class BackupFrequencyParsingTests: XCTestCase {
    func testNamedFrequencies() {
        XCTAssertEqual(BackupFrequency(parsing: "hourly")?.interval, .seconds(3_600))
        XCTAssertEqual(BackupFrequency(parsing: "daily")?.interval, .seconds(86_400))
        XCTAssertEqual(BackupFrequency(parsing: "weekly")?.interval, .seconds(604_800))
    }

    func testAnIntervalIsADuration() {
        XCTAssertEqual(BackupFrequency(parsing: "5m")?.interval, .seconds(300))
        XCTAssertEqual(BackupFrequency(parsing: "5m")?.description, "5m")
    }

    func testUnknownWordsAndBareNumbersAreRejected() {
        for text in ["fortnightly", "Daily", "", "5", "every day"] {
            XCTAssertNil(BackupFrequency(parsing: text), "«\(text)» must not parse as a frequency")
        }
    }

    func testTheScheduleWindowIsTheMostFrequentBackup() {
        var schedule = BackupSchedule()
        XCTAssertNil(schedule.shortestInterval)
        schedule.full = BackupFrequency(parsing: "weekly")
        schedule.incremental = BackupFrequency(parsing: "daily")
        schedule.transactionLog = BackupFrequency(parsing: "5m")
        XCTAssertEqual(schedule.shortestInterval, .seconds(300))
    }
}
