import ArgumentParser
import Foundation
import PolicyLedgerDomain
import PolicyLedgerEventLog

/// The flags of a target rule (目標値).
struct TargetOptions: ParsableArguments {
  @Option(name: .customLong("target-factor"), parsing: .unconditional, help: ArgumentHelp("A target relative to the baseline: 1.1 for 1割増加, 1.5 for 5割増加, 2 for 2倍.", valueName: "factor"))
  var factor: Checked<LedgerDecimal>?
  @Option(name: .customLong("target-value"), parsing: .unconditional, help: ArgumentHelp("An absolute target, such as 30 for 30%.", valueName: "value"))
  var value: Checked<LedgerDecimal>?
  @Flag(name: .customLong("at-least"), help: "Met when the value reaches the target or more (以上; the default).")
  var atLeast = false
  @Flag(name: .customLong("at-most"), help: "Met when the value stays at or below the target.")
  var atMost = false
  @Flag(help: "A target with no date (将来的に).")
  var eventually = false
  @Flag(help: "An approximate target (約).")
  var approximate = false
  @Option(name: .customLong("stated-as"), help: ArgumentHelp("The slide's own words, such as 1割増加（48,139人）.", valueName: "text"))
  var statedAs: String?
  @Option(name: .customLong("printed-value"), parsing: .unconditional, help: ArgumentHelp("The absolute number the slide prints for the target, such as 48,139.", valueName: "value"))
  var printedValue: Checked<LedgerDecimal>?
  @Option(name: .customLong("target-period"), help: ArgumentHelp("The period the target is for, such as FY2020 or 2020年度.", valueName: "period"))
  var period: Checked<ObservedPeriod>?

  func validate() throws { _ = try rule() }

  /// True when no target flag was given.
  var isEmpty: Bool {
    factor == nil && value == nil && !atLeast && !atMost && !eventually && !approximate && statedAs == nil && printedValue == nil && period == nil
  }

  /// The target, or `nil` when no target flag was given.
  func rule() throws -> TargetRule? {
    if isEmpty { return nil }
    if atLeast && atMost { throw ValidationError("Give --at-least or --at-most, not both.") }
    let factor = try self.factor?.value("--target-factor")
    let value = try self.value?.value("--target-value")
    let printed = try printedValue?.value("--printed-value")
    _ = try period?.value("--target-period")
    switch (factor, value) {
    case (nil, nil): throw ValidationError("A target needs --target-factor (relative to the baseline, 1.1 for 1割増加) or --target-value (absolute, 30 for 30%).")
    case (_?, _?): throw ValidationError("Give --target-factor or --target-value, not both.")
    case (let factor?, nil):
      if factor.isNegative || factor.isZero { throw ValidationError("--target-factor must be more than 0.") }
      return TargetRule(rule: .relative, factor: factor, atLeast: atMost ? false : true, eventually: eventually ? true : nil,
                        approximate: approximate ? true : nil, statedAs: statedAs, printedValue: printed)
    case (nil, let value?):
      return TargetRule(rule: .absolute, value: value, atLeast: atMost ? false : true, eventually: eventually ? true : nil,
                        approximate: approximate ? true : nil, statedAs: statedAs, printedValue: printed)
    }
  }

  func targetPeriod() throws -> ObservedPeriod? { try period?.value("--target-period") }
}

extension PolicyLedger.Record {
  /// `record indicator-defined`.
  struct IndicatorDefined: DatedEventRecording {
    static let configuration = CommandConfiguration(
      commandName: "indicator-defined",
      abstract: "An indicator series (目標値・主要指標) with its baseline, reference value and target.",
      discussion: """
        Example: policy-ledger record indicator-defined --indicator young-faculty --name-ja 40歳未満の大学本務教員数 --unit 人 --group ❶ --baseline-value 43,763 --target-factor 1.1 --stated-as "1割増加（48,139人）" --printed-value 48139 --target-period FY2020 --change-terms wari --effective 2016-01
        """)
    static let flags = ["indicator": "--indicator", "parent": "--parent", "name.ja": "--name-ja", "name": "--name-ja", "unit": "--unit",
                        "baseline": "--baseline-value", "reference": "--reference-value", "target": "--target-factor/--target-value",
                        "targetPeriod": "--target-period", "changeTerms": "--change-terms", "group": "--group", "breakdown": "--breakdown"]

    @Option(help: ArgumentHelp("The indicator's id.", valueName: "id"))
    var indicator: Checked<EntityID>
    @OptionGroup var name: NameOptions
    @Option(help: ArgumentHelp("人, %, 億円, 兆円, 百万円 or 件 (％ is read as %).", valueName: "unit"))
    var unit: IndicatorUnit
    @Option(help: ArgumentHelp("The slide's mark, such as ❶.", valueName: "mark"))
    var group: String?
    @Option(help: ArgumentHelp("The indicator this one is a sub-indicator of.", valueName: "id"))
    var parent: Checked<EntityID>?
    @Option(help: ArgumentHelp("A breakdown dimension, repeatable: sector=大学等, field=理学系.", valueName: "key=value"))
    var breakdown: [Checked<BreakdownPair>] = []
    @Option(name: .customLong("baseline-value"), parsing: .unconditional, help: ArgumentHelp("基準年値 (43,763).", valueName: "value"))
    var baselineValue: Checked<LedgerDecimal>?
    @Option(name: .customLong("baseline-period"), help: ArgumentHelp("The period of the baseline (2015, FY2015).", valueName: "period"))
    var baselinePeriod: Checked<ObservedPeriod>?
    @Option(name: .customLong("reference-value"), parsing: .unconditional, help: ArgumentHelp("参考値, the figure in parentheses (24.7).", valueName: "value"))
    var referenceValue: Checked<LedgerDecimal>?
    @Option(name: .customLong("reference-period"), help: ArgumentHelp("The period of the reference value (2013).", valueName: "period"))
    var referencePeriod: Checked<ObservedPeriod>?
    @OptionGroup(title: "Target") var target: TargetOptions
    @Option(name: .customLong("change-terms"), help: ArgumentHelp("How the slide states change from the baseline: percent (9.2%増加), wari (0.1割減少) or bai (0.9倍).", valueName: "terms"))
    var changeTerms: ChangeTerms?
    @OptionGroup var effective: EffectiveOption
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent {
      var pairs: [String: String]?
      for item in breakdown {
        let pair = try item.value("--breakdown")
        pairs = (pairs ?? [:]).merging([pair.key: pair.value]) { $1 }
      }
      if baselinePeriod != nil && baselineValue == nil { throw ValidationError("--baseline-period needs --baseline-value.") }
      if referencePeriod != nil && referenceValue == nil { throw ValidationError("--reference-period needs --reference-value.") }
      let baseline = try baselineValue.map { PeriodValue(value: try $0.value("--baseline-value"), period: try baselinePeriod?.value("--baseline-period")) }
      let reference = try referenceValue.map { PeriodValue(value: try $0.value("--reference-value"), period: try referencePeriod?.value("--reference-period")) }
      let rule = try target.rule()
      if rule?.rule == .relative && baseline == nil { throw ValidationError("--target-factor is relative to the baseline: give --baseline-value too.") }
      return .indicatorDefined(.init(indicator: try indicator.value("--indicator").rawValue, name: name.name, unit: unit, group: group,
                                     parent: try parent?.value("--parent").rawValue, breakdown: pairs, baseline: baseline, reference: reference,
                                     target: rule, targetPeriod: try target.targetPeriod(), changeTerms: changeTerms))
    }
  }

  /// `record indicator-observed`.
  struct IndicatorObserved: DatedEventRecording {
    static let configuration = CommandConfiguration(
      commandName: "indicator-observed",
      abstract: "A value of an indicator (最新値), for the period it describes.",
      discussion: "Example: policy-ledger record indicator-observed --indicator young-faculty --value 43,153 --unit 人 --period FY2019 --effective 2020")
    static let flags = ["indicator": "--indicator", "value": "--value", "unit": "--unit", "period": "--period", "note": "--note"]

    @Option(help: ArgumentHelp("The indicator's id.", valueName: "id"))
    var indicator: Checked<EntityID>
    // Decimal options take the next argument whatever it looks like, so that `--value -5` is
    // read as a value (and refused by validation as a negative count) rather than as a flag.
    @Option(parsing: .unconditional, help: ArgumentHelp("The value as printed: 43153, 43,153, ４３，１５３, 24.7.", valueName: "value"))
    var value: Checked<LedgerDecimal>
    @Option(help: ArgumentHelp("The unit; must be the indicator's (人, %, ％, 億円, 兆円, 百万円, 件).", valueName: "unit"))
    var unit: IndicatorUnit
    @Option(help: ArgumentHelp("The period the value describes: FY2019, 2018, 2015/2017.", valueName: "period"))
    var period: Checked<ObservedPeriod>?
    @Option(help: ArgumentHelp("A note, such as the slide's footnote.", valueName: "text"))
    var note: String?
    @OptionGroup var effective: EffectiveOption
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent {
      .indicatorObserved(.init(indicator: try indicator.value("--indicator").rawValue, value: try value.value("--value"), unit: unit,
                               period: try period?.value("--period"), note: note))
    }
  }

  /// `record indicator-target-revised`.
  struct IndicatorTargetRevised: DatedEventRecording {
    static let configuration = CommandConfiguration(
      commandName: "indicator-target-revised",
      abstract: "An indicator's target is set anew.")
    static let flags = ["indicator": "--indicator", "target": "--target-factor/--target-value", "targetPeriod": "--target-period"]

    @Option(help: ArgumentHelp("The indicator's id.", valueName: "id"))
    var indicator: Checked<EntityID>
    @OptionGroup(title: "Target") var target: TargetOptions
    @OptionGroup var effective: EffectiveOption
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent {
      guard let rule = try target.rule() else { throw ValidationError("Give the new target: --target-factor or --target-value.") }
      return .indicatorTargetRevised(.init(indicator: try indicator.value("--indicator").rawValue, target: rule, targetPeriod: try target.targetPeriod()))
    }
  }

  /// `record indicator-retired`.
  struct IndicatorRetired: DatedEventRecording {
    static let configuration = CommandConfiguration(commandName: "indicator-retired", abstract: "An indicator is no longer followed.")
    static let flags = ["indicator": "--indicator", "reason": "--reason"]

    @Option(help: ArgumentHelp("The indicator's id.", valueName: "id"))
    var indicator: Checked<EntityID>
    @Option(help: ArgumentHelp("Why.", valueName: "text"))
    var reason: String?
    @OptionGroup var effective: EffectiveOption
    @OptionGroup var entry: EntryOptions
    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var output: FormatOptions

    func event() throws -> CouncilEvent { .indicatorRetired(.init(indicator: try indicator.value("--indicator").rawValue, reason: reason)) }
  }
}
