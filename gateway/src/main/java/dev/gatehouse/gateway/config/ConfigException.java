package dev.gatehouse.gateway.config;

/** gatehouse.yaml is wrong; the message names the key. Never carries a secret: values are not quoted. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
