import type { ISettingRegistry } from '@jupyterlab/settingregistry';

/**
 * Apply a plugin's settings now and whenever the user changes them. Without a setting
 * registry nothing happens (the plugin keeps its defaults); a settings file that cannot be
 * loaded is said in the console, and the plugin keeps its defaults too.
 *
 * @param registry - JupyterLab's setting registry, or null when it is not available.
 * @param pluginId - The plugin whose settings to follow.
 * @param apply - Reads what the plugin needs from the settings.
 */
export function followSettings(
  registry: ISettingRegistry | null,
  pluginId: string,
  apply: (settings: ISettingRegistry.ISettings) => void
): void {
  registry
    ?.load(pluginId)
    .then(settings => {
      apply(settings);
      settings.changed.connect(() => apply(settings));
    })
    .catch(reason => {
      console.error(`${pluginId}: the settings could not be loaded`, reason);
    });
}
