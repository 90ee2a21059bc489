package dev.gatehouse.serving.constrain;

/** A JSON Schema that constrained decoding cannot hold an answer to; the message names the keyword and where it is. */
public final class UnsupportedSchemaException extends IllegalArgumentException {
    public UnsupportedSchemaException(String message) {
        super(message);
    }
}
