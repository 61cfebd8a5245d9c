/** The reachability diff of two clusters (pure): computed from the engine's matrices, rendered for people and CI. */
export { type AddressRange, addressRanges, formatAddresses, rangesToCIDRs } from './addresses.js'
export { alignWorkloads } from './align.js'
export * from './diff.js'
export { explicitPortGroups, formatPortRanges, type PortGroup, type PortRange, portGroups } from './ports.js'
export * from './render.js'
export { foldWorkloads, type Workload } from './workloads.js'
