package dev.gatehouse.gateway.metrics;

import io.micrometer.core.instrument.Meter;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Meters of one name by their tag values, for meters touched on every request: one map lookup instead
 * of Micrometer's builder and register, which build, sort and look up the tags each time (~5 % of a
 * proxied request's CPU). The callers' tags are already bounded (served names, key ids, statuses); the
 * map also stops growing at {@link #MAX_ENTRIES}, past which meters come from the registry as before.
 */
public final class MeterCache<M extends Meter> {
    static final int MAX_ENTRIES = 10_000;

    private final ConcurrentHashMap<List<String>, M> meters = new ConcurrentHashMap<>();
    private final Function<List<String>, M> register;

    /** {@code register} builds and registers the meter for tag values in the order {@link #get} is given them. */
    public MeterCache(Function<List<String>, M> register) {
        this.register = register;
    }

    public M get(String... tagValues) {
        List<String> key = List.of(tagValues);
        M meter = meters.get(key);
        if (meter == null) {
            meter = register.apply(key); // the registry returns the meter it already has for these tags
            if (meters.size() < MAX_ENTRIES) {
                meters.putIfAbsent(key, meter);
            }
        }
        return meter;
    }
}
