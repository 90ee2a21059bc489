package dev.gatehouse.gateway.hub;

import java.util.List;

/** A repository resolved at a revision: the commit sha every download is pinned to, and its files. */
public record HubRepo(String repo, String revision, String commit, List<HubFile> files) {}
