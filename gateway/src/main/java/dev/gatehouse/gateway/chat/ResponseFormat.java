package dev.gatehouse.gateway.chat;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The shape the answer's text must take: any JSON object ({@link Type#JSON_OBJECT}), or JSON that
 * follows {@code schema} ({@link Type#JSON_SCHEMA}, with the schema's {@code name}, an optional
 * {@code description}, and {@code strict} when the client asked for exact adherence). A request
 * without one wants plain text.
 */
public record ResponseFormat(Type type, String name, String description, JsonNode schema, Boolean strict) {
    public enum Type { JSON_OBJECT, JSON_SCHEMA }

    public static final ResponseFormat JSON_OBJECT = new ResponseFormat(Type.JSON_OBJECT, null, null, null, null);
}
