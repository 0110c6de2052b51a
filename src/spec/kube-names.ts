// Kubernetes' name rules, in one place: object names (DNS-1123 subdomains, at most 253
// characters) and namespace names (DNS-1123 labels, at most 63).
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** An object name: ConfigMaps, PersistentVolumeClaims, most kinds. */
export const isObjectName = (name: string): boolean => name.length <= 253 && SUBDOMAIN.test(name);

/** A namespace name. */
export const isNamespaceName = (name: string): boolean => name.length <= 63 && LABEL.test(name);

export const OBJECT_NAME_RULE = "lower-case letters, digits, '-' and '.'";
export const NAMESPACE_NAME_RULE = "lower-case letters, digits and '-'";
