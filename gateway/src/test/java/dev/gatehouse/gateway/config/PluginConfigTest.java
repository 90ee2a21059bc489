package dev.gatehouse.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.plugin.Plugins;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code plugins:} in gatehouse.yaml. */
class PluginConfigTest {
    private static List<PluginConfig> parse(String yaml) {
        return GatehouseConfig.parse(yaml, Map.of()).plugins();
    }

    private static String error(String yaml) {
        return assertThrows(ConfigException.class, () -> parse(yaml)).getMessage();
    }

    @Test
    void noneUnlessConfigured() {
        assertEquals(List.of(), GatehouseConfig.empty().plugins());
        assertEquals(List.of(), parse("models: []"));
        assertEquals(List.of(), parse("plugins: []"));
    }

    @Test
    void entriesKeepTheirOrderModelsAndSettings() {
        List<PluginConfig> plugins = parse("""
                plugins:
                  - name: pii-redaction
                    models: [chat, tiny]
                    settings: {redact: [email, phone, card], in: [request, response]}
                  - name: pii-redaction
                """);
        assertEquals(2, plugins.size());
        assertEquals("pii-redaction", plugins.get(0).name());
        assertEquals(List.of("chat", "tiny"), plugins.get(0).models());
        assertEquals("[\"email\",\"phone\",\"card\"]", plugins.get(0).settings().get("redact").toString());
        assertEquals(List.of(), plugins.get(1).models()); // every model
        assertTrue(plugins.get(1).settings().isEmpty());
        assertEquals(List.of("pii-redaction (chat, tiny)", "pii-redaction (all models)"),
                Plugins.load(plugins).describe());
    }

    @Test
    void pluginNamesAndSettingsAreCheckedWhenThePluginsLoad() {
        List<PluginConfig> unknown = parse("plugins: [{name: pii-redactor}]"); // the config alone does not know the plugins
        String message = assertThrows(ConfigException.class, () -> Plugins.load(unknown)).getMessage();
        assertTrue(message.contains("plugins[0] (pii-redactor): no plugin named 'pii-redactor'"), message);
        assertTrue(message.contains("available: pii-redaction"), message);

        List<PluginConfig> refused = parse("plugins: [{name: pii-redaction, settings: {redact: [ssn]}}]");
        message = assertThrows(ConfigException.class, () -> Plugins.load(refused)).getMessage();
        assertTrue(message.contains("plugins[0] (pii-redaction).settings: redact: unknown kind 'ssn'"), message);
    }

    @Test
    void mistakesAreErrors() {
        assertTrue(error("plugins: {name: pii-redaction}").contains("'plugins' must be a list"));
        assertTrue(error("plugins: [{models: [chat]}]").contains("plugins[0]: 'name' is required"));
        assertTrue(error("plugins: [{name: pii-redaction, model: chat}]").contains("unknown key 'model'"));
        assertTrue(error("plugins: [{name: pii-redaction, models: chat}]")
                .contains("plugins[0].models must be a list of model names"));
        assertTrue(error("plugins: [{name: pii-redaction, settings: [email]}]")
                .contains("plugins[0].settings must be a mapping"));
    }
}
