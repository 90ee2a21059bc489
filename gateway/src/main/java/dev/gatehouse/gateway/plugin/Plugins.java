package dev.gatehouse.gateway.plugin;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.config.ConfigException;
import dev.gatehouse.gateway.config.PluginConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * The plugins a server runs, in gatehouse.yaml's order. Like middleware they nest: requests pass
 * through the first plugin first, answers come back through it last (it sees what the later ones
 * made of the model's answer).
 */
public final class Plugins {
    public static final Plugins NONE = new Plugins(List.of());

    /**
     * One configured plugin.
     *
     * @param models the client-facing model names it applies to; empty = every model
     */
    public record Active(GatehousePlugin plugin, List<String> models) {
        public Active {
            models = List.copyOf(models);
        }

        boolean appliesTo(String model) {
            return models.isEmpty() || models.contains(model);
        }
    }

    private final List<Active> plugins;

    private Plugins(List<Active> plugins) {
        this.plugins = List.copyOf(plugins);
    }

    public static Plugins of(List<Active> plugins) {
        return new Plugins(plugins);
    }

    /** Every plugin for every model, in this order (tests, embedding). */
    public static Plugins of(GatehousePlugin... plugins) {
        List<Active> all = new ArrayList<>();
        for (GatehousePlugin p : plugins) {
            all.add(new Active(p, List.of()));
        }
        return new Plugins(all);
    }

    /** A new instance of each configured plugin from the class path, configured with its settings. */
    public static Plugins load(List<PluginConfig> configs) {
        List<Active> active = new ArrayList<>();
        for (int i = 0; i < configs.size(); i++) {
            PluginConfig c = configs.get(i);
            String where = "plugins[" + i + "] (" + c.name() + ")";
            GatehousePlugin plugin = create(c.name());
            if (plugin == null) {
                throw new ConfigException(where + ": no plugin named '" + c.name() + "' on the class path (available: "
                        + String.join(", ", available()) + ")");
            }
            try {
                plugin.configure(c.settings());
            } catch (IllegalArgumentException e) {
                throw new ConfigException(where + ".settings: " + e.getMessage());
            }
            active.add(new Active(plugin, c.models()));
        }
        return new Plugins(active);
    }

    /** The names of the plugins on the class path, sorted. */
    public static List<String> available() {
        TreeSet<String> names = new TreeSet<>();
        try {
            ServiceLoader.load(GatehousePlugin.class).stream().forEach(p -> names.add(p.get().name()));
        } catch (ServiceConfigurationError e) {
            throw new ConfigException("a plugin on the class path cannot be loaded: " + e.getMessage());
        }
        return List.copyOf(names);
    }

    /** A fresh instance of the plugin called {@code name}, null when none is on the class path. */
    private static GatehousePlugin create(String name) {
        try {
            for (ServiceLoader.Provider<GatehousePlugin> p : ServiceLoader.load(GatehousePlugin.class).stream().toList()) {
                GatehousePlugin plugin = p.get(); // each get() is a new instance: one per entry of plugins:
                if (plugin.name().equals(name)) {
                    return plugin;
                }
            }
        } catch (ServiceConfigurationError e) {
            throw new ConfigException("a plugin on the class path cannot be loaded: " + e.getMessage());
        }
        return null;
    }

    /** Each plugin's name with the models it applies to, for the start-up log. */
    public List<String> describe() {
        return plugins.stream().map(a -> a.plugin().name() + (a.models().isEmpty() ? " (all models)"
                : " (" + String.join(", ", a.models()) + ")")).toList();
    }

    /**
     * Runs the request hooks of the plugins for the request's model, in order.
     *
     * @throws ApiException 400 {@code rejected_by_plugin} naming the plugin that refused
     */
    public Applied onRequest(ChatRequest request, PluginContext context) {
        String model = request.model(); // the client's name selects the plugins, whatever they change
        List<Applied.Step> steps = new ArrayList<>();
        for (Active a : plugins) {
            if (!a.appliesTo(model)) {
                continue;
            }
            String name = a.plugin().name();
            try {
                request = Objects.requireNonNull(a.plugin().onRequest(request, context),
                        () -> "plugin '" + name + "' returned no request");
            } catch (PluginRejection e) {
                throw new ApiException(400, "invalid_request_error", "rejected_by_plugin", null,
                        "Request rejected by plugin '" + name + "': " + e.getMessage(), null);
            }
            steps.add(new Applied.Step(a.plugin(), request));
        }
        return new Applied(request, steps);
    }

    /**
     * What the request hooks made of a request: the request to serve, and the response hooks to wrap
     * its answer in.
     */
    public record Applied(ChatRequest request, List<Step> steps) {
        record Step(GatehousePlugin plugin, ChatRequest request) {}

        /** Whether no plugin applies to the request. */
        public boolean none() {
            return steps.isEmpty();
        }

        /** The answer as the client should get it: the last plugin wraps the model's stream first. */
        public ChatStream onResponse(ChatStream response) {
            ChatStream out = response;
            for (int i = steps.size() - 1; i >= 0; i--) {
                Step s = steps.get(i);
                out = Objects.requireNonNull(s.plugin().onResponse(s.request(), out),
                        () -> "plugin '" + s.plugin().name() + "' returned no stream");
            }
            return out;
        }
    }
}
