package dev.gatehouse.gateway.route;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Map;
import java.util.function.Function;

/**
 * What routing rules may look at besides the model name: who is asking and what they sent. Every
 * value is the client's data, only ever compared for equality with the values gatehouse.yaml lists.
 *
 * @param headers  a request header's first value by lower-case name, null when absent
 * @param keyId    the virtual key's id, null without one
 * @param keyName  the virtual key's name, null without one
 * @param jwtUser  the user a verified JWT names, null without one
 * @param claims   that JWT's claims as nimbus reads them (strings, numbers, booleans, lists, objects)
 * @param user     the request body's {@code user}
 * @param metadata the request body's {@code metadata}, null when it sent none
 */
public record RequestAttributes(Function<String, String> headers, String keyId, String keyName, String jwtUser,
                                Map<String, Object> claims, String user, JsonNode metadata) {

    /** No caller and no headers: a request only its model name routes. */
    public static final RequestAttributes NONE = new RequestAttributes(name -> null, null, null, null, Map.of(), null, null);

    public RequestAttributes {
        claims = claims == null ? Map.of() : claims;
    }

    String header(String lowerCaseName) {
        return headers.apply(lowerCaseName);
    }

    /** A string value of {@code metadata}; null when absent or not a string. */
    String metadata(String key) {
        JsonNode v = metadata == null || !metadata.isObject() ? null : metadata.get(key);
        return v != null && v.isTextual() ? v.textValue() : null;
    }

    /**
     * Who a sticky split keeps on one target: the JWT user, else the body's user, else the key;
     * null for an anonymous request (the master key, or no auth), which is split per request.
     */
    String stickyIdentity() {
        return jwtUser != null ? "jwt:" + jwtUser : user != null ? "user:" + user : keyId != null ? "key:" + keyId : null;
    }
}
