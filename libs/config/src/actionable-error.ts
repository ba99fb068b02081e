/**
 * A start-up error whose message says what to change (a setting, a definition file, the database):
 * an app that fails with one prints the message alone, since its stack trace adds nothing for
 * whoever has to fix it. Any other start-up error is printed with its stack.
 */
export abstract class ActionableError extends Error {}
