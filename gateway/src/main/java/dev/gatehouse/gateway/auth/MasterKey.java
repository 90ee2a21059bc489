package dev.gatehouse.gateway.auth;

/**
 * The master key {@code serve} starts with: {@code GATEHOUSE_MASTER_KEY} when set, else
 * {@code auth.master-key}. It opens the admin API, so a short one is refused at start (it could be
 * guessed), and so is an empty {@code GATEHOUSE_MASTER_KEY}: a variable set to nothing is a mistake
 * (an unset secret in a deployment template), not a way to turn auth off.
 */
public final class MasterKey {
    public static final int MIN_LENGTH = 16;

    private MasterKey() {}

    /** The key to use, or null when neither is set; an empty or short one is an IllegalArgumentException. */
    public static String choose(String fromEnvironment, String fromConfig) {
        String source = fromEnvironment != null ? "GATEHOUSE_MASTER_KEY" : "auth.master-key";
        String key = fromEnvironment != null ? fromEnvironment : fromConfig;
        if (key == null) {
            return null;
        }
        if (key.isBlank()) {
            throw new IllegalArgumentException(source + " is set but empty: set it to a key of at least " + MIN_LENGTH
                    + " characters (e.g. openssl rand -hex 24), or unset it");
        }
        if (key.length() < MIN_LENGTH) {
            throw new IllegalArgumentException(source + " is " + key.length() + " characters long; the master key must have at least "
                    + MIN_LENGTH + " (e.g. openssl rand -hex 24)");
        }
        return key;
    }
}
