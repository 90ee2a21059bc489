package dev.gatehouse.gateway.hub;

/**
 * One file of a Hub repository at a commit.
 *
 * @param sha256 the LFS object id (a sha256), or null for a small file kept in git (checked by size only)
 */
public record HubFile(String path, long size, String sha256) {
    public boolean isLfs() {
        return sha256 != null;
    }
}
