package dev.gatehouse.gateway.backend.local;

import dev.gatehouse.gateway.backend.local.tools.ToolSettings;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.engine.MemoryBudget;
import dev.gatehouse.serving.engine.EngineConfig;

import java.nio.file.Path;
import java.util.function.Function;

/**
 * Where local models come from and how each is served: the model store folder, the device and
 * compute type, and the engine limits per folder name (gatehouse.yaml's {@code local:}). Startup
 * and the admin API's load both go by it, so a model loaded later is served exactly as it would
 * have been at startup.
 *
 * @param device     the command line's device, for embedding models and folders without their own
 * @param placements per folder name: its device and compute type
 * @param tools      per folder name: how it serves tools ({@code tool-parser}, {@code tool-fallback})
 * @param memory     what a model loading on the CPU may take ({@code --memory-limit-mb}): one that cannot fit is refused
 */
public record LocalStore(Path root, DeviceChoice device, Function<String, EngineConfig> engineConfigs,
                         Function<String, Placement> placements, Function<String, ToolSettings> tools,
                         MemoryBudget memory) {

    /**
     * Where one model runs ({@code local.NAME.device}), in which type ({@code local.NAME.dtype}) and
     * how it holds 16-bit weights on the CPU ({@code local.NAME.weights-dtype}).
     */
    public record Placement(DeviceChoice device, DtypeChoice dtype, WeightsDtype weights) {}

    /** Every model on {@code device} in its automatic compute type. */
    public LocalStore(Path root, DeviceChoice device, Function<String, EngineConfig> engineConfigs) {
        this(root, device, engineConfigs, name -> new Placement(device, DtypeChoice.AUTO, WeightsDtype.AUTO), name -> ToolSettings.DEFAULTS,
                MemoryBudget.MEASURED);
    }

    /** The same engine limits for every model. */
    public static LocalStore of(Path root, DeviceChoice device, EngineConfig config) {
        return new LocalStore(root, device, name -> config);
    }
}
