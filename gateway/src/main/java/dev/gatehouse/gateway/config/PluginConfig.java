package dev.gatehouse.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.gatehouse.gateway.plugin.Plugins;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One entry of {@code plugins:} in gatehouse.yaml:
 * {@code {name: pii-redaction, models: [chat], settings: {...}}}.
 *
 * @param name the plugin's name; a plugin by that name must be on the class path
 * @param models the client-facing model names it applies to; empty = every model
 * @param settings handed to the plugin as they are (an empty object when absent)
 */
public record PluginConfig(String name, List<String> models, JsonNode settings) {

    /**
     * The {@code plugins:} list, checked against the plugins on the class path: an unknown name or a
     * setting the plugin refuses is an error here, not at the first request.
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
        Plugins.load(out); // the plugins check their names and settings now
        return List.copyOf(out);
    }

    private static PluginConfig parse(JsonNode n, String where) {
        GatehouseConfig.requireObject(n, where);
        GatehouseConfig.allowKeys(n, where, Set.of("name", "models", "settings"));
        String name = GatehouseConfig.requiredText(n, "name", where);
        List<String> models = new ArrayList<>();
        JsonNode m = n.path("models");
        if (!m.isMissingNode() && !m.isNull()) {
            if (!m.isArray()) {
                throw new ConfigException(where + ".models must be a list of model names");
            }
            for (JsonNode model : m) {
                if (!model.isTextual() || model.asText().isEmpty()) {
                    throw new ConfigException(where + ".models must be a list of model names");
                }
                models.add(model.asText());
            }
        }
        JsonNode settings = n.path("settings");
        if (settings.isMissingNode() || settings.isNull()) {
            settings = JsonNodeFactory.instance.objectNode();
        } else {
            GatehouseConfig.requireObject(settings, where + ".settings");
        }
        return new PluginConfig(name, List.copyOf(models), settings);
    }
}
