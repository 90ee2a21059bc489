package dev.gatehouse.serving.engine;

import ai.djl.Device;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Locale;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a model runs ({@code --device}, {@code local.NAME.device}): {@code auto} (the first GPU
 * when libtorch sees one, else the CPU), {@code cpu}, {@code cuda} (= {@code cuda:0}) or
 * {@code cuda:N}.
 *
 * @param kind  auto, cpu or cuda
 * @param index the GPU's index for cuda, -1 otherwise
 */
public record DeviceChoice(Kind kind, int index) {
    private static final Logger LOG = Logger.getLogger(DeviceChoice.class.getName());
    private static final Pattern CUDA_N = Pattern.compile("cuda:(\\d{1,3})");

    public enum Kind { AUTO, CPU, CUDA }

    public static final DeviceChoice AUTO = new DeviceChoice(Kind.AUTO, -1);
    public static final DeviceChoice CPU = new DeviceChoice(Kind.CPU, -1);
    public static final DeviceChoice CUDA = new DeviceChoice(Kind.CUDA, 0);

    public static DeviceChoice cuda(int index) {
        return new DeviceChoice(Kind.CUDA, index);
    }

    public static DeviceChoice parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        Matcher m = CUDA_N.matcher(v);
        if (m.matches()) {
            return cuda(Integer.parseInt(m.group(1)));
        }
        return switch (v) {
            case "auto" -> AUTO;
            case "cpu" -> CPU;
            case "cuda" -> CUDA;
            default -> throw new IllegalArgumentException("device must be auto, cpu, cuda or cuda:N, not '" + value + "'");
        };
    }

    /** Whether a model placed by this choice runs on the CPU (auto on a machine without a usable GPU). */
    public boolean onCpu() {
        return kind == Kind.CPU || kind == Kind.AUTO && !TorchBuild.cudaAvailable();
    }

    /** The DJL device; a GPU asked for and not usable is an IllegalStateException saying why in one line. */
    public Device resolve() {
        boolean cuda = TorchBuild.cudaAvailable(); // loads libtorch: a GPU build that names none stops here, also for cpu
        if (kind == Kind.CPU) {
            return Device.cpu();
        }
        if (kind == Kind.AUTO) {
            if (!cuda && TorchBuild.isCudaBuild()) {
                LOG.warning(noGpuMessage(true, "auto", TorchBuild.libtorchPath()) + "; running on the CPU");
            }
            return cuda ? Device.gpu(0) : Device.cpu();
        }
        if (!cuda) {
            throw new IllegalStateException(noGpuMessage(TorchBuild.isCudaBuild(), toString(), TorchBuild.libtorchPath()));
        }
        Device gpu = Device.gpu(index);
        try (NDManager probe = NDManager.newBaseManager(gpu, "PyTorch")) {
            probe.zeros(new Shape(1)); // libtorch refuses an index past its devices here, as an EngineException
        } catch (EngineException e) {
            throw new IllegalStateException("device " + this + " is not a GPU libtorch can use: "
                    + firstLine(e.getMessage()));
        }
        return gpu;
    }

    /** The one line said when libtorch sees no usable GPU. */
    static String noGpuMessage(boolean cudaBuild, String asked, String libtorch) {
        return cudaBuild
                ? "device " + asked + ": libtorch is a CUDA build (" + libtorch + ") but sees no usable GPU "
                        + "(no NVIDIA driver, none visible to this process, or a driver older than the build needs)"
                : "device " + asked + " was asked for but libtorch is a CPU build (" + libtorch + ") and sees no CUDA GPU "
                        + "(GPU builds use the Maven profile -Pcuda with PYTORCH_FLAVOR, see the README's GPU section)";
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "no reason given";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    @Override
    public String toString() {
        return kind == Kind.CUDA ? "cuda:" + index : kind.name().toLowerCase(Locale.ROOT);
    }
}
