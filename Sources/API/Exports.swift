@_exported import Secrets
