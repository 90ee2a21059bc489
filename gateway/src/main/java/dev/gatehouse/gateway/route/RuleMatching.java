package dev.gatehouse.gateway.route;

import dev.gatehouse.gateway.config.RuleMatch;

import java.util.Collection;
import java.util.Map;
import java.util.Set;

/** Whether a request meets a rule's {@link RuleMatch}: set lookups on precompiled values, no parsing per request. */
final class RuleMatching {
    private RuleMatching() {}

    /** {@code version}: the version asked for, else the route's own (null when it has none). */
    static boolean matches(RuleMatch m, RequestAttributes a, String version) {
        for (RuleMatch.Field h : m.headers()) {
            if (!in(h.values(), a.header(h.path().getFirst()))) {
                return false;
            }
        }
        if (!m.keys().isEmpty() && !in(m.keys(), a.keyName()) && !in(m.keys(), a.keyId())) {
            return false;
        }
        if (!m.jwtUsers().isEmpty() && !in(m.jwtUsers(), a.jwtUser())) {
            return false;
        }
        for (RuleMatch.Field c : m.claims()) {
            if (!claimHolds(c, a.claims())) {
                return false;
            }
        }
        if (!m.users().isEmpty() && !in(m.users(), a.user())) {
            return false;
        }
        for (RuleMatch.Field md : m.metadata()) {
            if (!in(md.values(), a.metadata(md.path().getFirst()))) {
                return false;
            }
        }
        return m.versions().isEmpty() || in(m.versions(), version);
    }

    /** The claim at the field's path: a scalar one of the values, or a list holding one of them. */
    private static boolean claimHolds(RuleMatch.Field c, Map<String, Object> claims) {
        Object v = claims;
        for (String step : c.path()) {
            v = v instanceof Map<?, ?> object ? object.get(step) : null;
        }
        if (v instanceof Collection<?> list) {
            for (Object item : list) { // as long as the token, which the server's header limit bounds
                if (scalarIn(c.values(), item)) {
                    return true;
                }
            }
            return false;
        }
        return scalarIn(c.values(), v);
    }

    private static boolean scalarIn(Set<String> values, Object v) {
        return (v instanceof String || v instanceof Number || v instanceof Boolean) && values.contains(v.toString());
    }

    /** Set.copyOf's sets refuse to look up null. */
    private static boolean in(Set<String> values, String v) {
        return v != null && values.contains(v);
    }
}
