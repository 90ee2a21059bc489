package dev.gatehouse.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code when:} of a routing rule, compiled once at start: every condition given must hold, and
 * each condition holds when the request's value is one of the listed values (exact, case-sensitive;
 * header names are case-insensitive). An absent condition (empty here) always holds.
 *
 * @param headers  {@code header: {NAME: VALUE}}: the request header's first value; names lower-cased
 * @param keys     {@code key:} the virtual key's name or id
 * @param jwtUsers {@code jwt-user:} the user a verified JWT names
 * @param claims   {@code claim: {NAME: VALUE}} and {@code group:} (the {@code groups} claim): a verified
 *                 JWT's claim, a dotted name reaching into objects ({@code realm_access.roles}); a list
 *                 claim holds when any element is one of the values
 * @param users    {@code user:} the request body's {@code user} field, as the client sent it
 * @param metadata {@code metadata: {KEY: VALUE}}: a string in the request's {@code metadata} object
 * @param versions {@code version:} the version asked for ({@code model@version}), else the route's own
 */
public record RuleMatch(List<Field> headers, Set<String> keys, Set<String> jwtUsers, List<Field> claims,
                        Set<String> users, List<Field> metadata, Set<String> versions) {

    /** One named condition: {@code path} is the header's lower-cased name, the metadata key, or a claim's dotted path split. */
    public record Field(List<String> path, Set<String> values) {}

    /** Rule and version names: they become header values, usage-log entries and metric labels. */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}");
    /** A condition's values: enough for any sensible list of tenants or regions, not a database. */
    static final int MAX_VALUES = 1_000;

    public RuleMatch {
        headers = List.copyOf(headers);
        claims = List.copyOf(claims);
        metadata = List.copyOf(metadata);
    }

    static RuleMatch parse(JsonNode n, String where) {
        if (n == null || !n.isObject() || n.isEmpty()) {
            throw new ConfigException(where + " must be a mapping of conditions (header, key, jwt-user, group, claim,"
                    + " user, metadata, version): a rule that always matches would hide the rules and default after it");
        }
        GatehouseConfig.allowKeys(n, where, Set.of("header", "key", "jwt-user", "group", "claim", "user", "metadata",
                "version"));
        List<Field> headers = new ArrayList<>();
        for (Map.Entry<String, JsonNode> h : entries(n, "header", where)) {
            if (!HEADER_NAME.matcher(h.getKey()).matches()) {
                throw new ConfigException(where + ".header: '" + h.getKey() + "' is not a header name");
            }
            headers.add(new Field(List.of(h.getKey().toLowerCase(Locale.ROOT)), values(h.getValue(),
                    where + ".header." + h.getKey())));
        }
        List<Field> claims = new ArrayList<>();
        if (n.has("group")) {
            claims.add(new Field(List.of("groups"), values(n.get("group"), where + ".group")));
        }
        for (Map.Entry<String, JsonNode> c : entries(n, "claim", where)) {
            List<String> path = List.of(c.getKey().split("\\.", -1));
            if (path.stream().anyMatch(String::isEmpty)) {
                throw new ConfigException(where + ".claim: '" + c.getKey() + "' is not a claim name (dotted names reach into objects)");
            }
            claims.add(new Field(path, values(c.getValue(), where + ".claim." + c.getKey())));
        }
        List<Field> metadata = new ArrayList<>();
        for (Map.Entry<String, JsonNode> m : entries(n, "metadata", where)) {
            metadata.add(new Field(List.of(m.getKey()), values(m.getValue(), where + ".metadata." + m.getKey())));
        }
        Set<String> versions = optionalValues(n, "version", where);
        for (String v : versions) {
            if (!NAME.matcher(v).matches()) {
                throw new ConfigException(where + ".version: '" + v + "' is not a version tag (letters, digits, '.', '_', '-'; at most 64)");
            }
        }
        return new RuleMatch(headers, optionalValues(n, "key", where), optionalValues(n, "jwt-user", where), claims,
                optionalValues(n, "user", where), metadata, versions);
    }

    private static Iterable<Map.Entry<String, JsonNode>> entries(JsonNode n, String key, String where) {
        if (!n.has(key)) {
            return List.of();
        }
        JsonNode v = n.get(key);
        if (!v.isObject() || v.isEmpty()) {
            throw new ConfigException(where + "." + key + " must be a mapping of names to values, e.g. {x-region: eu}");
        }
        Iterator<Map.Entry<String, JsonNode>> it = v.fields();
        return () -> it;
    }

    private static Set<String> optionalValues(JsonNode n, String key, String where) {
        return n.has(key) ? values(n.get(key), where + "." + key) : Set.of();
    }

    /** A scalar, or a non-empty list of scalars (any of them matches); numbers and booleans as YAML wrote them. */
    private static Set<String> values(JsonNode v, String where) {
        String wrong = where + " must be a value or a non-empty list of values";
        List<JsonNode> items = new ArrayList<>();
        if (v.isArray()) {
            v.forEach(items::add);
            if (items.isEmpty() || items.size() > MAX_VALUES) {
                throw new ConfigException(where + " must list 1 to " + MAX_VALUES + " values");
            }
        } else {
            items.add(v);
        }
        Set<String> values = new LinkedHashSet<>();
        for (JsonNode item : items) {
            if (!item.isValueNode() || item.isNull() || item.asText().isEmpty()) {
                throw new ConfigException(wrong);
            }
            values.add(item.asText());
        }
        return Set.copyOf(values);
    }
}
