package dev.gatehouse.gateway.chat;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A function the model may call: its name, what it does, and its parameters as a JSON-schema object
 * (the decoder has checked it is one). {@code strict} asks the provider to hold the arguments to the
 * schema exactly (OpenAI's structured outputs); null when the client did not say.
 */
public record Tool(String name, String description, JsonNode parameters, Boolean strict) {}
