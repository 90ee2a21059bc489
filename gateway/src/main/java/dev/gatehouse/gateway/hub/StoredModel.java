package dev.gatehouse.gateway.hub;

/**
 * One model folder in the store, as {@code models list} shows it.
 *
 * @param architecture config.json's first architecture, or null
 * @param repo         the Hub repository it was pulled from (its manifest), or null when copied in by hand
 */
public record StoredModel(String name, String architecture, WeightsSummary weights, long sizeBytes,
                          boolean servable, String repo) {}
