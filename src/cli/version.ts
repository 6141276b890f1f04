/** vmkit's version, as `vmkit --version` prints it. */
export const VERSION = '0.1.0';
