package dev.gatehouse.gateway.cache;

import java.util.List;
import java.util.Locale;

/**
 * What the client's {@code Cache-Control} header allows: {@code no-cache} asks for a fresh answer
 * (not looked up, but stored for the next caller), {@code no-store} keeps the exchange out of the
 * cache altogether (neither looked up nor stored).
 */
public enum CacheControl {
    USE, NO_CACHE, NO_STORE;

    /** From the header's values (each possibly a comma-separated list of directives); USE without any. */
    public static CacheControl of(List<String> values) {
        CacheControl control = USE;
        for (String value : values) {
            for (String directive : value.split(",")) {
                String name = directive.split("=", 2)[0].trim().toLowerCase(Locale.ROOT);
                if (name.equals("no-store")) {
                    return NO_STORE; // the stronger of the two
                }
                if (name.equals("no-cache")) {
                    control = NO_CACHE;
                }
            }
        }
        return control;
    }
}
