package dev.gatehouse.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One entry of {@code plugins:} in gatehouse.yaml:
 * {@code {name: pii-redaction, models: [chat], settings: {...}}}.
 *
 * @param name the plugin's name; a plugin by that name must be on the class path ({@code Plugins.load} checks)
 * @param models the client-facing model names it applies to; empty = every model
 * @param settings handed to the plugin as they are (an empty object when absent)
 */
public record PluginConfig(String name, List<String> models, JsonNode settings) {

    /**
     * The {@code plugins:} list as written; {@code Plugins.load} (at {@code serve}, before the server
     * listens) checks the names against the plugins on the class path and hands each its settings.
     */
    static List<PluginConfig> parseList(JsonNode n) {
        if (n.isMissingNode() || n.isNull()) {
            return List.of();
        }
        if (!n.isArray()) {
            throw new ConfigException("'plugins' must be a list");
        }
        List<PluginConfig> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            out.add(parse(n.get(i), "plugins[" + i + "]"));
        }
        return List.copyOf(out);
    }

    private static PluginConfig parse(JsonNode n, String where) {
        GatehouseConfig.requireObject(n, where);
        GatehouseConfig.allowKeys(n, where, Set.of("name", "models", "settings"));
        String name = GatehouseConfig.requiredText(n, "name", where);
        List<String> models = GatehouseConfig.modelNames(n, "models", where);
        JsonNode settings = n.path("settings");
        if (settings.isMissingNode() || settings.isNull()) {
            settings = JsonNodeFactory.instance.objectNode();
        } else {
            GatehouseConfig.requireObject(settings, where + ".settings");
        }
        return new PluginConfig(name, models, settings);
    }
}
