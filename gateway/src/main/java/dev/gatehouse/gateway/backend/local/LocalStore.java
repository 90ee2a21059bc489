package dev.gatehouse.gateway.backend.local;

import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.EngineConfig;

import java.nio.file.Path;
import java.util.function.Function;

/**
 * Where local models come from and how each is served: the model store folder, the device, and the
 * engine limits per folder name (gatehouse.yaml's {@code local:}). Startup and the admin API's load
 * both go by it, so a model loaded later is served exactly as it would have been at startup.
 */
public record LocalStore(Path root, DeviceChoice device, Function<String, EngineConfig> engineConfigs) {
    /** The same engine limits for every model. */
    public static LocalStore of(Path root, DeviceChoice device, EngineConfig config) {
        return new LocalStore(root, device, name -> config);
    }
}
