/**
 * A start-up error whose message says what to change (a setting, a definition file, the database):
 * an app that fails with one prints the message alone, since its stack trace adds nothing for
 * whoever has to fix it. Any other start-up error is printed with its stack.
 */
export abstract class ActionableError extends Error {}

/**
 * The exit code of an app that refuses to start over an ActionableError (sysexits' EX_CONFIG):
 * restarting it changes nothing until someone acts, so a supervisor (`npm start`) stops on it
 * instead of restarting the app forever.
 */
export const CONFIG_REFUSED_EXIT_CODE = 78;
