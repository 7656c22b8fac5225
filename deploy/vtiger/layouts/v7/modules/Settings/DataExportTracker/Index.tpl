{*
 * Data Export Tracker: CRM Settings page (Settings_DataExportTracker_Index_View).
 * Every value that comes from the database or the request is escaped here.
 *}
{strip}
<div class="col-lg-12 col-md-12 col-sm-12 dxt-settings" id="DataExportTrackerSettings">
	<div class="clearfix dxt-header">
		<h3 style="margin-top: 0px;">{vtranslate('LBL_DATA_EXPORT_TRACKER', $QUALIFIED_MODULE)}</h3>
		<p class="text-muted">{vtranslate('LBL_DATA_EXPORT_TRACKER_DESC', $QUALIFIED_MODULE)}</p>
	</div>
	<ul class="nav nav-tabs dxt-tabs">
		<li class="{if $TAB eq 'config'}active{/if}"><a href="{$TAB_URLS.config}">{vtranslate('LBL_TAB_CONFIGURATION', $QUALIFIED_MODULE)}</a></li>
		<li class="{if $TAB eq 'logs'}active{/if}"><a href="{$TAB_URLS.logs}">{vtranslate('LBL_TAB_TRACKING_LOGS', $QUALIFIED_MODULE)}</a></li>
		<li class="{if $TAB eq 'schedules'}active{/if}"><a href="{$TAB_URLS.schedules}">{vtranslate('LBL_TAB_SCHEDULED_REPORTS', $QUALIFIED_MODULE)}</a></li>
	</ul>
	<div class="dxt-tab-body">
		{if $DXT_ERROR neq ''}
			<div class="alert alert-danger">{$DXT_ERROR|escape:'html'}</div>
		{/if}
		{if $TAB eq 'config'}
			{if isset($SETTINGS)}{include file='Configuration.tpl'|vtemplate_path:$QUALIFIED_MODULE}{/if}
		{elseif $TAB eq 'logs'}
			{if isset($EVENTS)}{include file='TrackingLogs.tpl'|vtemplate_path:$QUALIFIED_MODULE}{/if}
		{else}
			{if isset($SCHEDULES)}{include file='ScheduledReports.tpl'|vtemplate_path:$QUALIFIED_MODULE}{/if}
		{/if}
	</div>
</div>
{/strip}
