// The shared capturing logger, under the name the identity tests import.
export { CaptureLogger, type LogLine } from '../../../support/capture-logger.js';
