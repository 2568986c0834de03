"""Operations: health checks, metrics, logging and backups."""
