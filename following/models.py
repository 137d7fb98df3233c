# Copy trading (follow settings, trade errors) lands with its own issue.
