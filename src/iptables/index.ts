// The walkthrough's iptables capture rules: build, apply, remove, print, and the CLI.
export {
  DEFAULT_INBOUND_IGNORE_PORTS,
  DEFAULT_INBOUND_PORT,
  DEFAULT_OUTBOUND_IGNORE_PORTS,
  DEFAULT_OUTBOUND_PORT,
  INBOUND_CHAIN,
  OUTBOUND_CHAIN,
  buildRemoveRules,
  buildRules,
  buildRuleCommands,
  type Family,
  type RuleCommand,
  type RuleOptions,
} from './rules.js';
export { applyRules, captureLines, natTable, printRules, removeRules, type IptablesDeps, type IptablesReport } from './apply.js';
export {
  IptablesCommandError,
  IptablesMissingError,
  NotRootError,
  execRunner,
  shellQuote,
  type CommandResult,
  type CommandRunner,
} from './run.js';
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, IPTABLES_USAGE, runIptablesCli, type CliOutput } from './cli.js';
